"""Holds (campaign budgets): reserve, capture, void; list and read."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access
from ledger.api.blueprint import Blueprint
from ledger.api.credits import default_currency
from ledger.api.errors import ErrorSchema
from ledger.api.responses import created, document_errors, require_authentication
from ledger.api.schemas.holds import (
    CaptureCreateSchema,
    CaptureSchema,
    HoldCreateSchema,
    HoldListArgsSchema,
    HoldPageSchema,
    HoldSchema,
)
from ledger.services import holds

blp = Blueprint("holds", __name__, url_prefix="/v1/orgs/<uuid:org_id>/holds", description="Holds")
blp.before_request(require_authentication)


@blp.route("")
class Holds(MethodView):
    @blp.arguments(HoldCreateSchema)
    @blp.response(201, HoldSchema)
    @blp.alt_response(402, schema=ErrorSchema, description="insufficient_credit")
    @blp.alt_response(409, schema=ErrorSchema, description="idempotency_conflict")
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Reserve credit for a campaign (idempotent on order_id)"""
        org_access(org_id, "deduct")
        body["currency"] = default_currency(org_id, body.get("currency"))
        return created(holds.create_hold(org_id=org_id, **body))

    @blp.arguments(HoldListArgsSchema, location="query")
    @blp.response(200, HoldPageSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, org_id: uuid.UUID):
        """The organisation's holds, newest first"""
        org_access(org_id, "read")
        return holds.list_holds(org_id=org_id, **args)


@blp.route("/<uuid:hold_id>")
class HoldResource(MethodView):
    @blp.response(200, HoldSchema)
    @document_errors(blp, 401, 403, 404)
    def get(self, org_id: uuid.UUID, hold_id: uuid.UUID):
        """One hold"""
        org_access(org_id, "read")
        return holds.get_hold(org_id=org_id, hold_id=hold_id)


@blp.route("/<uuid:hold_id>/captures")
class Captures(MethodView):
    @blp.arguments(CaptureCreateSchema)
    @blp.response(201, CaptureSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="hold_not_active, idempotency_conflict")
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID, hold_id: uuid.UUID):
        """Spend from a hold (idempotent on order_id); `final` releases the rest"""
        org_access(org_id, "deduct")
        return created(holds.capture_hold(org_id=org_id, hold_id=hold_id, **body))


@blp.route("/<uuid:hold_id>/void")
class Void(MethodView):
    @blp.response(200, HoldSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="hold_not_active")
    @document_errors(blp, 401, 403, 404)
    def post(self, org_id: uuid.UUID, hold_id: uuid.UUID):
        """Give back what is left of a hold to the lots it came from"""
        org_access(org_id, "deduct")
        return holds.void_hold(org_id=org_id, hold_id=hold_id)
