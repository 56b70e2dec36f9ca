"""Holds: reserve, capture, void; list and read."""

from marshmallow import Schema, fields, validate

from ledger.api.fields import Amount, Currency, OrderId
from ledger.api.metadata import Metadata
from ledger.api.schemas.common import InputSchema, ListArgsSchema, PageSchema
from ledger.domain.holds import TRANSITIONS


class HoldCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount(required=True)
    currency = Currency()
    # In the future and before year 9999, checked by the service after a replay is
    # answered: a replay repeats the first answer even once that time has passed.
    expires_at = fields.AwareDateTime(
        metadata={"description": "default: now + HOLD_DEFAULT_TTL_HOURS"}
    )
    description = fields.String(validate=validate.Length(max=500), allow_none=True)
    reference = fields.String(validate=validate.Length(max=200), allow_none=True)
    metadata = Metadata()


class HoldListArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf(sorted(TRANSITIONS)))


class HoldSchema(Schema):
    id = fields.UUID(required=True)
    order_id = fields.String(required=True)
    status = fields.String(required=True)
    amount = fields.Integer(required=True)
    captured = fields.Integer(required=True)
    remaining = fields.Integer(required=True)
    currency = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    reference = fields.String(allow_none=True, required=True)
    description = fields.String(allow_none=True, required=True)
    metadata = fields.Dict(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class HoldPageSchema(PageSchema):
    data = fields.List(fields.Nested(HoldSchema), required=True)


class CaptureCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount(required=True)
    # Only JSON booleans: "yes" or 1 would be a guess about a release of credit.
    final = fields.Boolean(
        load_default=False,
        truthy={True},
        falsy={False},
        metadata={"description": "true: release what is left"},
    )


class CaptureSchema(Schema):
    id = fields.String(required=True)
    hold_id = fields.UUID(required=True)
    order_id = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    final = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
