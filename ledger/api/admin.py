"""Operators: grants and ledger-wide reports."""

import uuid

from flask.views import MethodView

from ledger.api.auth import require_operator
from ledger.api.blueprint import Blueprint
from ledger.api.credits import default_currency
from ledger.api.errors import ErrorSchema
from ledger.api.responses import created, document_errors, require_authentication
from ledger.api.schemas.admin import GrantCreateSchema, GrantSchema, TrialBalanceSchema
from ledger.book import reports
from ledger.services import grants

blp = Blueprint("admin", __name__, url_prefix="/v1/admin", description="Operators")
blp.before_request(require_authentication)


@blp.route("/orgs/<uuid:org_id>/grants")
class Grants(MethodView):
    @blp.arguments(GrantCreateSchema)
    @blp.response(201, GrantSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="idempotency_conflict")
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Grant bonus credit (never refundable)"""
        principal = require_operator()
        body["currency"] = default_currency(org_id, body.get("currency"))
        return created(grants.grant_credit(org_id=org_id, granted_by=principal.subject, **body))


@blp.route("/ledger/trial-balance")
class TrialBalance(MethodView):
    @blp.response(200, TrialBalanceSchema)
    @document_errors(blp, 401, 403)
    def get(self):
        """Each ledger account's balance, and the total per currency (always 0)"""
        require_operator()
        return reports.trial_balance()
