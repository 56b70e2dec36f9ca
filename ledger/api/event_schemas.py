"""Schemas of events, webhook endpoints and their delivery attempts."""

from marshmallow import Schema, fields, validate

from ledger.api.schemas import InputSchema, ListArgsSchema, PageSchema
from ledger.domain.events import ALL_EVENTS, EVENT_TYPES

ENDPOINT_STATUSES = ("enabled", "disabled")


def EventType(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=validate.OneOf(EVENT_TYPES), **kwargs)


# Events


class EventSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    org_id = fields.UUID(required=True)
    data = fields.Dict(required=True, metadata={"description": "the object as the API shows it"})


class EventPageSchema(PageSchema):
    data = fields.List(fields.Nested(EventSchema), required=True)


class EventListArgsSchema(ListArgsSchema):
    type = EventType()


class AllEventsListArgsSchema(EventListArgsSchema):
    org_id = fields.UUID()


class RedeliverSchema(InputSchema):
    endpoint_id = fields.UUID(metadata={"description": "default: every endpoint that subscribes"})


class RedeliverySchema(Schema):
    event_id = fields.UUID(required=True)
    endpoint_ids = fields.List(fields.UUID(), required=True)


# Webhook endpoints


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
