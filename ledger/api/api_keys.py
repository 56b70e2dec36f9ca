"""Organisation API keys (owners and admins)."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access
from ledger.api.blueprint import Blueprint
from ledger.api.responses import document_errors, require_authentication
from ledger.api.schemas.api_keys import ApiKeyCreatedSchema, ApiKeyCreateSchema, ApiKeyListSchema
from ledger.services import organizations

blp = Blueprint(
    "api_keys", __name__, url_prefix="/v1/orgs/<uuid:org_id>/api-keys", description="API keys"
)
blp.before_request(require_authentication)


@blp.route("")
class ApiKeys(MethodView):
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, ApiKeyCreatedSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Create an API key; the key is shown once"""
        principal = org_access(org_id, "manage_keys")
        return organizations.create_api_key(org_id=org_id, created_by=principal.subject, **body)

    @blp.response(200, ApiKeyListSchema)
    @document_errors(blp, 401, 403, 404)
    def get(self, org_id: uuid.UUID):
        """List API keys, without secrets"""
        org_access(org_id, "manage_keys")
        return {"data": organizations.list_api_keys(org_id=org_id), "next_cursor": None}


@blp.route("/<uuid:key_id>")
class ApiKeyResource(MethodView):
    @blp.response(204)
    @document_errors(blp, 401, 403, 404)
    def delete(self, org_id: uuid.UUID, key_id: uuid.UUID):
        """Revoke an API key at once"""
        org_access(org_id, "manage_keys")
        organizations.revoke_api_key(org_id=org_id, key_id=key_id)
