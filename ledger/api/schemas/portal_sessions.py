"""Portal sessions: a one-use link into one organisation's portal."""

from marshmallow import Schema, fields, validate

from ledger.api.schemas.common import InputSchema


class PortalSessionCreateSchema(InputSchema):
    role = fields.String(validate=validate.OneOf(["admin", "viewer"]), load_default="admin")
    return_url = fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={"description": "where the portal's back link and sign-out lead"},
    )


class PortalSessionSchema(Schema):
    url = fields.String(required=True, metadata={"description": "one use, valid 10 minutes"})
    expires_at = fields.DateTime(required=True)
