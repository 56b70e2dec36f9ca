"""Refund requests and refunds made outside the service."""

from marshmallow import Schema, fields, validate

from ledger.api.fields import Amount
from ledger.api.schemas.common import InputSchema, ListArgsSchema, PageSchema
from ledger.domain.refunds import REFUND_BANKS
from ledger.domain.refunds import TRANSITIONS as REFUND_TRANSITIONS


class RefundAccountSchema(InputSchema):
    """The bank account a bank-transfer (virtual account) top-up is refunded to."""

    bank = fields.String(
        required=True,
        validate=validate.OneOf(sorted(REFUND_BANKS)),
        metadata={"description": "PortOne's bank code, e.g. SHINHAN"},
    )
    number = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9-]{6,30}$", error="an account number")
    )
    holder_name = fields.String(required=True, validate=validate.Length(min=1, max=60))


class RefundRequestCreateSchema(InputSchema):
    topup_id = fields.UUID(required=True)
    amount = Amount(metadata={"description": "default: all that is refundable"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    refund_account = fields.Nested(
        RefundAccountSchema,
        metadata={"description": "required when the top-up was paid into a virtual account"},
    )


class RefundRequestListArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf(sorted(REFUND_TRANSITIONS)))


class RefundApproveSchema(InputSchema):
    note = fields.String(validate=validate.Length(max=500), allow_none=True)


class RefundRejectSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RefundRequestSchema(Schema):
    """A refund request with its audit trail: who asked, decided or canceled, and when."""

    id = fields.UUID(required=True)
    org_id = fields.UUID(required=True)
    topup_id = fields.UUID(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True)
    reason = fields.String(required=True)
    requested_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    decided_by = fields.String(allow_none=True, required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)
    decision_note = fields.String(allow_none=True, required=True)
    canceled_by = fields.String(allow_none=True, required=True)
    failure_code = fields.String(allow_none=True, required=True)
    failure_message = fields.String(allow_none=True, required=True)
    gateway_refund_id = fields.String(allow_none=True, required=True)
    completed_at = fields.DateTime(allow_none=True, required=True)
    updated_at = fields.DateTime(allow_none=True, required=True)


class RefundRequestPageSchema(PageSchema):
    data = fields.List(fields.Nested(RefundRequestSchema), required=True)


class ExternalRefundListArgsSchema(ListArgsSchema):
    with_shortfall = fields.Boolean(load_default=False)


class ExternalRefundSchema(Schema):
    """A refund made outside the service: what was taken back, and what was already spent."""

    id = fields.UUID(required=True)
    org_id = fields.UUID(required=True)
    topup_id = fields.UUID(required=True)
    provider = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    taken_back = fields.Integer(required=True)
    shortfall = fields.Integer(required=True)
    gateway_refunded = fields.Integer(required=True)
    entry_id = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ExternalRefundPageSchema(PageSchema):
    data = fields.List(fields.Nested(ExternalRefundSchema), required=True)
