"""API keys: create, list (the secret is shown once)."""

from marshmallow import Schema, fields, validate

from ledger.api.schemas.common import InputSchema, PageSchema
from ledger.domain.api_keys import API_KEY_SCOPES


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
