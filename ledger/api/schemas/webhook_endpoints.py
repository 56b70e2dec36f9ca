"""Webhook endpoints (operators) and their delivery attempts."""

from marshmallow import Schema, fields, validate

from ledger.api.schemas.common import InputSchema, PageSchema
from ledger.domain.events import ALL_EVENTS, EVENT_TYPES

ENDPOINT_STATUSES = ("enabled", "disabled")


def Subscriptions(**kwargs) -> fields.List:  # noqa: N802
    return fields.List(
        fields.String(validate=validate.OneOf((ALL_EVENTS, *EVENT_TYPES))),
        validate=validate.Length(min=1, max=len(EVENT_TYPES) + 1),
        metadata={"description": 'event types, or ["*"] for all'},
        **kwargs,
    )


class WebhookEndpointCreateSchema(InputSchema):
    url = fields.Url(
        required=True,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=2000),
    )
    events = Subscriptions(required=True)
    org_id = fields.UUID(allow_none=True, metadata={"description": "only its events"})
    description = fields.String(allow_none=True, validate=validate.Length(max=500))


class WebhookEndpointUpdateSchema(InputSchema):
    events = Subscriptions()
    status = fields.String(validate=validate.OneOf(ENDPOINT_STATUSES))


class WebhookEndpointSchema(Schema):
    id = fields.UUID(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    org_id = fields.UUID(allow_none=True, required=True)
    description = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class WebhookEndpointCreatedSchema(WebhookEndpointSchema):
    secret = fields.String(required=True, metadata={"description": "whsec_..., shown once"})


class WebhookEndpointPageSchema(PageSchema):
    data = fields.List(fields.Nested(WebhookEndpointSchema), required=True)


class DeliveryAttemptSchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.UUID(required=True)
    attempt = fields.Integer(required=True)
    status_code = fields.Integer(allow_none=True, required=True)
    error = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class DeliveryAttemptPageSchema(PageSchema):
    data = fields.List(fields.Nested(DeliveryAttemptSchema), required=True)
