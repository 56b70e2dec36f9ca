"""Events: listed, and redelivered by operators."""

from marshmallow import Schema, fields, validate

from ledger.api.schemas.common import InputSchema, ListArgsSchema, PageSchema
from ledger.domain.events import EVENT_TYPES


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
