"""Request and response schemas. Inputs refuse unknown fields."""

from collections.abc import Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, post_dump, pre_load, validate

from ledger.api.errors import ErrorBodySchema
from ledger.api.fields import Amount, Currency, OrderId
from ledger.domain.refunds import TRANSITIONS as REFUND_TRANSITIONS
from ledger.domain.topups import TRANSITIONS as TOPUP_TRANSITIONS
from ledger.errors import ValidationFailed
from ledger.gateways import GATEWAYS
from ledger.services.deductions import RejectedItem
from ledger.services.organizations import API_KEY_SCOPES


def _storable(value) -> bool:
    """PostgreSQL text and jsonb hold neither NUL nor unpaired surrogates."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, Mapping):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


class InputSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _refuse_unstorable_text(self, data, **kwargs):
        """Text the database cannot store is invalid input (422), not a server error."""
        if isinstance(data, Mapping):
            bad = [key for key, value in data.items() if not _storable(value)]
            if bad:
                message = ["contains characters that cannot be stored"]
                raise ValidationError(dict.fromkeys(bad, message))
        return data


class ListArgsSchema(InputSchema):
    limit = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200), metadata={"default": 50}
    )
    cursor = fields.String(validate=validate.Length(max=200))


class PageSchema(Schema):
    next_cursor = fields.String(allow_none=True, required=True)


# Organisations and API keys


class OrganizationCreateSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    billing_email = fields.Email(required=True)
    currency = Currency(required=True)


class OrganizationSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    billing_email = fields.String(required=True)
    currency = fields.String(required=True)
    stripe_customer_id = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class ApiKeyCreateSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    scopes = fields.List(
        fields.String(validate=validate.OneOf(API_KEY_SCOPES)),
        required=True,
        validate=validate.Length(min=1),
    )


class ApiKeySchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True, required=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(required=True, metadata={"description": "shown once"})


class ApiKeyListSchema(PageSchema):
    """All of the organisation's keys in one page (an organisation has a handful)."""

    data = fields.List(fields.Nested(ApiKeySchema), required=True)


# Balance and entries


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
    kind = fields.String(validate=validate.Length(min=1, max=50))


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


class EntryPageSchema(PageSchema):
    data = fields.List(fields.Nested(EntrySchema), required=True)


# Deductions


class DeductionCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount(required=True)
    currency = Currency()
    description = fields.String(validate=validate.Length(max=500), allow_none=True)
    reference = fields.String(validate=validate.Length(max=200), allow_none=True)
    metadata = fields.Dict(keys=fields.String(validate=validate.Length(max=100)), allow_none=True)


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
                order_id if isinstance(order_id, str) else None, ValidationFailed(fields=messages)
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


# Operators


class GrantCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount(required=True)
    currency = Currency()
    expires_at = fields.AwareDateTime(allow_none=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class GrantSchema(Schema):
    id = fields.UUID(required=True, attribute="lot_id")
    entry_id = fields.String(required=True)
    order_id = fields.String(required=True)
    kind = fields.Constant("bonus", required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    expires_at = fields.DateTime(allow_none=True, required=True)
    reason = fields.String(required=True)
    balance_after = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class AccountBalanceSchema(Schema):
    account_id = fields.String(required=True)
    org_id = fields.UUID(allow_none=True, required=True)
    kind = fields.String(required=True)
    currency = fields.String(required=True)
    balance = fields.Integer(required=True)


class TrialBalanceSchema(Schema):
    accounts = fields.List(fields.Nested(AccountBalanceSchema), required=True)
    total = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, attribute="totals"
    )


# Top-ups


class TopupCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount(required=True)
    currency = Currency()
    provider = fields.String(required=True, validate=validate.OneOf(sorted(GATEWAYS)))
    checkout = fields.Boolean(load_default=False, metadata={"description": "Stripe only"})


class TopupListArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf(sorted(TOPUP_TRANSITIONS)))


class TopupSchema(Schema):
    id = fields.UUID(required=True)
    order_id = fields.String(required=True)
    status = fields.String(required=True)
    provider = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    paid_at = fields.DateTime(allow_none=True, required=True)
    refunded_amount = fields.Integer(required=True)
    failure_code = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True)
    flagged_reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    stripe = fields.Dict(
        metadata={
            "description": "payment_intent_id and client_secret, "
            "or checkout_session_id and checkout_url"
        }
    )
    portone = fields.Dict(metadata={"description": "payment_id, store_id, channel_key, order_name"})

    @post_dump(pass_original=True)
    def _provider_object(self, data, topup, **kwargs):
        """What the browser needs, in an object named after the provider."""
        for name in GATEWAYS:
            data.pop(name, None)
        data[topup.provider] = dict(topup.gateway_data or {})
        return data


class TopupPageSchema(PageSchema):
    data = fields.List(fields.Nested(TopupSchema), required=True)


# Refunds


class RefundRequestCreateSchema(InputSchema):
    topup_id = fields.UUID(required=True)
    amount = Amount(metadata={"description": "default: all that is refundable"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


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
