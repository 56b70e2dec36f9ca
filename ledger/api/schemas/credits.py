"""Credits: balance, entries, deductions (single and batch), reversals."""

from marshmallow import Schema, ValidationError, fields, post_dump, validate

from ledger.api.errors import ErrorBodySchema
from ledger.api.fields import Amount, Currency, OrderId
from ledger.api.metadata import Metadata, validation_failure
from ledger.api.schemas.common import InputSchema, ListArgsSchema, PageSchema
from ledger.domain.deductions import RejectedItem
from ledger.domain.entries import ENTRY_KINDS


class BalanceArgsSchema(InputSchema):
    currency = Currency()


class LotSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True)
    remaining = fields.Integer(required=True)
    expires_at = fields.DateTime(allow_none=True, required=True)


class BalanceSchema(Schema):
    currency = fields.String(required=True)
    available = fields.Integer(required=True)
    reserved = fields.Integer(required=True, metadata={"description": "kept by active holds"})
    held = fields.Integer(required=True)
    lots = fields.List(fields.Nested(LotSchema), required=True)


class EntryListArgsSchema(ListArgsSchema):
    kind = fields.String(validate=validate.OneOf(ENTRY_KINDS))


class EntrySchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    order_id = fields.String(allow_none=True, required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    balance_after = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    description = fields.String(allow_none=True, required=True)
    reference = fields.String(allow_none=True, required=True)
    metadata = fields.Dict(allow_none=True, required=True)


class EntryPageSchema(PageSchema):
    data = fields.List(fields.Nested(EntrySchema), required=True)


# Deductions


class DeductionCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount(required=True)
    currency = Currency()
    description = fields.String(validate=validate.Length(max=500), allow_none=True)
    reference = fields.String(validate=validate.Length(max=200), allow_none=True)
    metadata = Metadata()


class DeductionSchema(Schema):
    id = fields.String(required=True)
    order_id = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    balance_after = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class ReversalCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount()


class ReversalSchema(DeductionSchema):
    deduction_id = fields.String(required=True)


class BatchItem(fields.Nested):
    """A batch item: one that does not validate loads as a `RejectedItem`, so it gets its
    own 422 result (the body a single call would have given) instead of failing the batch."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as e:
            order_id = value.get("order_id") if isinstance(value, dict) else None
            messages = e.messages if isinstance(e.messages, dict) else {"_schema": e.messages}
            return RejectedItem(
                order_id if isinstance(order_id, str) else None, validation_failure(messages)
            )


class DeductionBatchSchema(InputSchema):
    deductions = fields.List(
        BatchItem(DeductionCreateSchema),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )


class DeductionResultSchema(Schema):
    order_id = fields.String(required=True, allow_none=True)
    status = fields.Integer(required=True)
    deduction = fields.Nested(DeductionSchema)
    error = fields.Nested(ErrorBodySchema)

    @post_dump
    def _either(self, data, **kwargs):
        """An item has a deduction or an error, never a null one of each."""
        return {k: v for k, v in data.items() if v is not None or k == "order_id"}


class DeductionBatchResultSchema(Schema):
    results = fields.List(fields.Nested(DeductionResultSchema), required=True)
