"""Disputes (chargebacks)."""

from marshmallow import Schema, fields, validate

from ledger.api.schemas.common import ListArgsSchema, PageSchema
from ledger.domain.disputes import CLOSED, OPEN


class DisputeListArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf(sorted({OPEN, *CLOSED})))


class DisputeSchema(Schema):
    """A chargeback on a top-up: what was frozen of its credit, and what was lost."""

    id = fields.UUID(required=True)
    org_id = fields.UUID(required=True)
    topup_id = fields.UUID(required=True)
    provider = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    frozen = fields.Integer(
        required=True, metadata={"description": "credit moved from available to held"}
    )
    shortfall = fields.Integer(
        required=True, metadata={"description": "lost and already spent: the platform's loss"}
    )
    status = fields.String(required=True, metadata={"description": "open, won or lost"})
    created_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True, required=True)


class DisputePageSchema(PageSchema):
    data = fields.List(fields.Nested(DisputeSchema), required=True)
