"""Refund requests: the organisation asks and cancels; operators approve or reject."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access, require_operator
from ledger.api.blueprint import Blueprint
from ledger.api.errors import ErrorSchema
from ledger.api.responses import created, document_errors, require_authentication
from ledger.api.schemas.refunds import (
    ExternalRefundListArgsSchema,
    ExternalRefundPageSchema,
    RefundApproveSchema,
    RefundRejectSchema,
    RefundRequestCreateSchema,
    RefundRequestListArgsSchema,
    RefundRequestPageSchema,
    RefundRequestSchema,
)
from ledger.services import refunds

blp = Blueprint(
    "refunds",
    __name__,
    url_prefix="/v1/orgs/<uuid:org_id>/refund-requests",
    description="Refund requests",
)
blp.before_request(require_authentication)

admin_blp = Blueprint(
    "admin_refunds", __name__, url_prefix="/v1/admin", description="Operators: refunds"
)
admin_blp.before_request(require_authentication)


@blp.route("")
class RefundRequests(MethodView):
    @blp.arguments(RefundRequestCreateSchema)
    @blp.response(201, RefundRequestSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="refund_already_pending")
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Ask for a top-up's unused credit back; the amount is held at once"""
        principal = org_access(org_id, "refund")
        return created(
            refunds.request_refund(org_id=org_id, requested_by=principal.subject, **body)
        )

    @blp.arguments(RefundRequestListArgsSchema, location="query")
    @blp.response(200, RefundRequestPageSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, org_id: uuid.UUID):
        """The organisation's refund requests, newest first"""
        org_access(org_id, "read")
        return refunds.list_refund_requests(org_id=org_id, **args)


@blp.route("/<uuid:request_id>")
class RefundRequestResource(MethodView):
    @blp.response(200, RefundRequestSchema)
    @document_errors(blp, 401, 403, 404)
    def get(self, org_id: uuid.UUID, request_id: uuid.UUID):
        """A refund request"""
        org_access(org_id, "read")
        return refunds.get_refund_request(org_id=org_id, request_id=request_id)


@blp.route("/<uuid:request_id>/cancel")
class RefundRequestCancel(MethodView):
    @blp.response(200, RefundRequestSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="invalid_state: not pending")
    @document_errors(blp, 401, 403, 404)
    def post(self, org_id: uuid.UUID, request_id: uuid.UUID):
        """Withdraw a pending request; the hold is released"""
        principal = org_access(org_id, "refund")
        return refunds.cancel_refund(
            org_id=org_id, request_id=request_id, canceled_by=principal.subject
        )


@admin_blp.route("/refund-requests")
class AdminRefundRequests(MethodView):
    @admin_blp.arguments(RefundRequestListArgsSchema, location="query")
    @admin_blp.response(200, RefundRequestPageSchema)
    @document_errors(admin_blp, 401, 403, 422)
    def get(self, args):
        """Refund requests of every organisation, newest first"""
        require_operator()
        return refunds.list_refund_requests(**args)


@admin_blp.route("/refund-requests/<uuid:request_id>/approve")
class AdminRefundApprove(MethodView):
    @admin_blp.arguments(RefundApproveSchema)
    @admin_blp.response(200, RefundRequestSchema)
    @admin_blp.alt_response(409, schema=ErrorSchema, description="invalid_state: not pending")
    @document_errors(admin_blp, 401, 403, 404, 422)
    def post(self, body, request_id: uuid.UUID):
        """Refund through the gateway: `succeeded`, `failed`, or `processing` until it answers"""
        principal = require_operator()
        return refunds.approve_refund(
            request_id=request_id, decided_by=principal.subject, note=body.get("note")
        )


@admin_blp.route("/refund-requests/<uuid:request_id>/reject")
class AdminRefundReject(MethodView):
    @admin_blp.arguments(RefundRejectSchema)
    @admin_blp.response(200, RefundRequestSchema)
    @admin_blp.alt_response(409, schema=ErrorSchema, description="invalid_state: not pending")
    @document_errors(admin_blp, 401, 403, 404, 422)
    def post(self, body, request_id: uuid.UUID):
        """Refuse a pending request; the hold is released"""
        principal = require_operator()
        return refunds.reject_refund(
            request_id=request_id, decided_by=principal.subject, reason=body["reason"]
        )


@admin_blp.route("/external-refunds")
class AdminExternalRefunds(MethodView):
    @admin_blp.arguments(ExternalRefundListArgsSchema, location="query")
    @admin_blp.response(200, ExternalRefundPageSchema)
    @document_errors(admin_blp, 401, 403, 422)
    def get(self, args):
        """Refunds made outside the service (e.g. the gateway's dashboard) and their shortfalls"""
        require_operator()
        return refunds.list_external_refunds(**args)
