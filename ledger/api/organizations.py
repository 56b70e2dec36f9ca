"""Organisations."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access, require_operator
from ledger.api.blueprint import Blueprint
from ledger.api.responses import document_errors, require_authentication
from ledger.api.schemas.organizations import (
    OrganizationCreateSchema,
    OrganizationSchema,
    OrganizationUpdateSchema,
)
from ledger.services import organizations

blp = Blueprint("organizations", __name__, url_prefix="/v1/orgs", description="Organisations")
blp.before_request(require_authentication)


@blp.route("")
class Organizations(MethodView):
    @blp.arguments(OrganizationCreateSchema)
    @blp.response(201, OrganizationSchema)
    @document_errors(blp, 401, 403, 422)
    def post(self, body):
        """Create an organisation (operators)"""
        require_operator()
        return organizations.create_organization(**body)


@blp.route("/<uuid:org_id>")
class OrganizationResource(MethodView):
    @blp.response(200, OrganizationSchema)
    @document_errors(blp, 401, 404)
    def get(self, org_id: uuid.UUID):
        """Get an organisation"""
        org_access(org_id, "read")
        return organizations.get_organization(org_id)

    @blp.arguments(OrganizationUpdateSchema)
    @blp.response(200, OrganizationSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def patch(self, body, org_id: uuid.UUID):
        """Set the low-balance threshold (`balance.low` when available falls below it)"""
        org_access(org_id, "set_threshold")
        return organizations.set_low_balance_threshold(
            org_id=org_id, threshold=body["low_balance_threshold"]
        )
