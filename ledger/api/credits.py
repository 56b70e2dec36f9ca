"""Balance, history, deductions and reversals."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access
from ledger.api.blueprint import Blueprint
from ledger.api.errors import ErrorSchema
from ledger.api.responses import created, document_errors, require_authentication
from ledger.api.schemas.credits import (
    BalanceArgsSchema,
    BalanceSchema,
    DeductionBatchResultSchema,
    DeductionBatchSchema,
    DeductionCreateSchema,
    DeductionSchema,
    EntryListArgsSchema,
    EntryPageSchema,
    ReversalCreateSchema,
    ReversalSchema,
)
from ledger.book import reports
from ledger.services import deductions, organizations

blp = Blueprint("credits", __name__, url_prefix="/v1/orgs/<uuid:org_id>", description="Credit")
blp.before_request(require_authentication)


def default_currency(org_id: uuid.UUID, currency: str | None) -> str:
    """The asked currency, else the organisation's own (NotFound for no organisation)."""
    own = organizations.organization_currency(org_id)
    return currency or own


@blp.route("/balance")
class BalanceResource(MethodView):
    @blp.arguments(BalanceArgsSchema, location="query")
    @blp.response(200, BalanceSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, org_id: uuid.UUID):
        """Available and held credit, and the lots behind it"""
        org_access(org_id, "read")
        return reports.balance(
            org_id=org_id, currency=default_currency(org_id, args.get("currency"))
        )


@blp.route("/transactions")
class Transactions(MethodView):
    @blp.arguments(EntryListArgsSchema, location="query")
    @blp.response(200, EntryPageSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, org_id: uuid.UUID):
        """Journal entries of the organisation, newest first"""
        org_access(org_id, "read")
        return reports.list_entries(org_id=org_id, **args)


@blp.route("/deductions")
class Deductions(MethodView):
    @blp.arguments(DeductionCreateSchema)
    @blp.response(201, DeductionSchema)
    @blp.alt_response(402, schema=ErrorSchema, description="insufficient_credit")
    @blp.alt_response(409, schema=ErrorSchema, description="idempotency_conflict")
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Deduct credit (idempotent on order_id)"""
        org_access(org_id, "deduct")
        body["currency"] = default_currency(org_id, body.get("currency"))
        return created(deductions.deduct(org_id=org_id, **body))


@blp.route("/deductions/batch")
class DeductionBatch(MethodView):
    @blp.arguments(DeductionBatchSchema)
    @blp.response(200, DeductionBatchResultSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Deduct up to 1,000 items in one transaction; each answers as a single call would"""
        org_access(org_id, "deduct")
        results = deductions.deduct_batch(
            org_id=org_id, currency=default_currency(org_id, None), deductions=body["deductions"]
        )
        return {"results": results}


@blp.route("/deductions/<int:deduction_id>/reversals")
class Reversals(MethodView):
    @blp.arguments(ReversalCreateSchema)
    @blp.response(201, ReversalSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="idempotency_conflict")
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID, deduction_id: int):
        """Reverse (part of) a deduction; credit returns to its lots"""
        org_access(org_id, "reverse")
        return created(
            deductions.reverse_deduction(org_id=org_id, deduction_id=deduction_id, **body)
        )
