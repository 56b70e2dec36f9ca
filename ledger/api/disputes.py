"""Disputes (chargebacks): an organisation's, and every organisation's for operators."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access, require_operator
from ledger.api.blueprint import Blueprint
from ledger.api.responses import document_errors, require_authentication
from ledger.api.schemas.disputes import DisputeListArgsSchema, DisputePageSchema
from ledger.services import disputes

blp = Blueprint(
    "disputes", __name__, url_prefix="/v1/orgs/<uuid:org_id>/disputes", description="Disputes"
)
blp.before_request(require_authentication)

admin_blp = Blueprint(
    "admin_disputes", __name__, url_prefix="/v1/admin", description="Operators: disputes"
)
admin_blp.before_request(require_authentication)


@blp.route("")
class Disputes(MethodView):
    @blp.arguments(DisputeListArgsSchema, location="query")
    @blp.response(200, DisputePageSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, org_id: uuid.UUID):
        """The organisation's disputes, newest first"""
        org_access(org_id, "read")
        return disputes.list_disputes(org_id=org_id, **args)


@admin_blp.route("/disputes")
class AdminDisputes(MethodView):
    @admin_blp.arguments(DisputeListArgsSchema, location="query")
    @admin_blp.response(200, DisputePageSchema)
    @document_errors(admin_blp, 401, 403, 422)
    def get(self, args):
        """Disputes of every organisation, newest first (lost ones list their shortfall)"""
        require_operator()
        return disputes.list_disputes(**args)
