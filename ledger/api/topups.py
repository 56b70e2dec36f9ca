"""Top-ups through a payment gateway."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access
from ledger.api.blueprint import Blueprint
from ledger.api.credits import default_currency
from ledger.api.errors import ErrorSchema
from ledger.api.responses import created, document_errors, require_authentication
from ledger.api.schemas.topups import (
    TopupCreateSchema,
    TopupListArgsSchema,
    TopupPageSchema,
    TopupSchema,
)
from ledger.services import topups

blp = Blueprint(
    "topups", __name__, url_prefix="/v1/orgs/<uuid:org_id>/topups", description="Top-ups"
)
blp.before_request(require_authentication)


@blp.route("")
class Topups(MethodView):
    @blp.arguments(TopupCreateSchema)
    @blp.response(201, TopupSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="idempotency_conflict")
    @blp.alt_response(502, schema=ErrorSchema, description="the gateway failed")
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Start a top-up (idempotent on order_id)"""
        org_access(org_id, "topup")
        body["currency"] = default_currency(org_id, body.get("currency"))
        return created(topups.create_topup(org_id=org_id, **body))

    @blp.arguments(TopupListArgsSchema, location="query")
    @blp.response(200, TopupPageSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, org_id: uuid.UUID):
        """Top-ups, newest first"""
        org_access(org_id, "read")
        return topups.list_topups(org_id=org_id, **args)


@blp.route("/<uuid:topup_id>")
class TopupResource(MethodView):
    @blp.response(200, TopupSchema)
    @document_errors(blp, 401, 403, 404)
    def get(self, org_id: uuid.UUID, topup_id: uuid.UUID):
        """A top-up"""
        org_access(org_id, "read")
        return topups.get_topup(org_id=org_id, topup_id=topup_id)


@blp.route("/<uuid:topup_id>/confirm")
class TopupConfirm(MethodView):
    @blp.response(200, TopupSchema)
    @blp.alt_response(502, schema=ErrorSchema, description="the gateway did not answer")
    @document_errors(blp, 401, 403, 404)
    def post(self, org_id: uuid.UUID, topup_id: uuid.UUID):
        """Ask the gateway now; credit the top-up if it is paid (never twice)"""
        org_access(org_id, "topup")
        return topups.confirm_topup(org_id=org_id, topup_id=topup_id)
