"""Top-ups: create, list, read."""

from marshmallow import Schema, fields, post_dump, validate

from ledger.api.fields import Amount, Currency, OrderId
from ledger.api.schemas.common import InputSchema, ListArgsSchema, PageSchema
from ledger.domain.topups import TRANSITIONS as TOPUP_TRANSITIONS
from ledger.gateways import GATEWAYS


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
