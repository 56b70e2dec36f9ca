"""The operators' console (/console/): refunds, organisations, the ledger's health.

To add a page: a view on `bp` that calls `require_operator()` and one service function,
then renders a template that extends "console/layout.html". POST forms include
`{{ csrf_field() }}` and are checked by the API's own schemas (`forms.load_form`).

Deciding a refund takes two steps: the request's page links to a confirmation page
(GET) whose form does the POST, so a decision is never one stray click.
"""

import uuid
from datetime import UTC, date, datetime, time

from flask import redirect, render_template, request, url_for

from ledger.api.auth import require_operator
from ledger.api.schemas.admin import GrantCreateSchema
from ledger.api.schemas.events import RedeliverSchema
from ledger.api.schemas.refunds import RefundApproveSchema, RefundRejectSchema
from ledger.errors import ValidationFailed
from ledger.money import MoneyError, parse_amount
from ledger.pages import guard, oidc
from ledger.pages.forms import load_form
from ledger.services import events, grants, page_sessions, refunds
from ledger.services.ledger_health import ledger_health, run_verify
from ledger.services.organization_overview import organization_overview
from ledger.services.organizations import organization_currency, search_organizations
from ledger.services.refund_queue import refund_case, refund_queue, refund_troubles

bp = guard.page_blueprint("console", "operator")


@bp.get("/")
def index():
    require_operator()
    return render_template("console/index.html", refunds=refund_queue())


# Refunds


@bp.get("/refunds/<uuid:request_id>")
def refund(request_id: uuid.UUID):
    require_operator()
    return render_template("console/refund.html", case=refund_case(request_id))


@bp.get("/refunds/<uuid:request_id>/<any(approve, reject):decision>")
def confirm_decision(request_id: uuid.UUID, decision: str):
    require_operator()
    return render_template(
        "console/confirm_decision.html", case=refund_case(request_id), decision=decision
    )


@bp.post("/refunds/<uuid:request_id>/approve")
def approve(request_id: uuid.UUID):
    operator = require_operator()
    body = load_form(RefundApproveSchema(), {"note": request.form.get("note") or None})
    refunds.approve_refund(request_id=request_id, decided_by=operator.subject, **body)
    return redirect(url_for("console.refund", request_id=request_id))


@bp.post("/refunds/<uuid:request_id>/reject")
def reject(request_id: uuid.UUID):
    operator = require_operator()
    body = load_form(RefundRejectSchema(), {"reason": request.form.get("reason", "").strip()})
    refunds.reject_refund(request_id=request_id, decided_by=operator.subject, **body)
    return redirect(url_for("console.refund", request_id=request_id))


@bp.get("/attention")
def attention():
    require_operator()
    return render_template("console/attention.html", troubles=refund_troubles())


# Organisations


@bp.get("/orgs")
def organizations():
    require_operator()
    query = request.args.get("q", "")
    return render_template(
        "console/organizations.html", query=query, found=search_organizations(query=query)
    )


@bp.get("/orgs/<uuid:org_id>")
def organization(org_id: uuid.UUID):
    require_operator()
    return render_template(
        "console/organization.html",
        overview=organization_overview(org_id),
        grant_order_id=f"console-grant-{uuid.uuid4().hex}",
    )


@bp.post("/orgs/<uuid:org_id>/grants")
def grant(org_id: uuid.UUID):
    operator = require_operator()
    currency = organization_currency(org_id)
    body = load_form(GrantCreateSchema(), _grant_form(currency))
    grants.grant_credit(org_id=org_id, granted_by=operator.subject, currency=currency, **body)
    return redirect(url_for("console.organization", org_id=org_id))


def _grant_form(currency: str) -> dict:
    """The grant form as the API's body: money as people write it, an expiry date as the
    end of that day in UTC. The hidden order_id makes a resubmitted form grant once."""
    form = request.form
    try:
        amount = parse_amount(form.get("amount", ""), currency)
    except MoneyError as e:
        raise ValidationFailed(f"amount: {e}") from e
    body = {"order_id": form.get("order_id", ""), "amount": amount, "reason": form.get("reason")}
    if form.get("expires_on"):
        try:
            day = date.fromisoformat(form["expires_on"])
        except ValueError as e:
            raise ValidationFailed("expires_on: not a date (YYYY-MM-DD)") from e
        body["expires_at"] = datetime.combine(day, time.max, UTC).isoformat()
    return body


# The ledger's health


@bp.get("/health")
def health():
    require_operator()
    return render_template("console/health.html", health=ledger_health())


@bp.post("/health/verify")
def verify():
    operator = require_operator()
    run_verify(source="console", started_by=operator.subject)
    return redirect(url_for("console.health"))


@bp.post("/events/<uuid:event_id>/redeliver")
def redeliver(event_id: uuid.UUID):
    require_operator()
    endpoint = request.form.get("endpoint_id")
    body = load_form(RedeliverSchema(), {"endpoint_id": endpoint} if endpoint else {})
    events.redeliver(event_id=event_id, **body)
    return redirect(url_for("console.health"))


# Signing in and out


@bp.get("/sign-in")
@guard.public
def sign_in():
    return render_template("console/sign_in.html", oidc_configured=oidc.is_configured())


@bp.get("/sign-in/<token>")
@guard.public
def redeem_link(token: str):
    started = page_sessions.redeem_sign_in_link(kind="operator", token=token)
    return guard.start(redirect(url_for("console.index")), started)


@bp.get("/oidc/start")
@guard.public
def oidc_start():
    return oidc.redirect_to_provider(url_for("console.oidc_callback", _external=True))


@bp.get("/oidc/callback")
@guard.public
def oidc_callback():
    subject = oidc.operator_from_callback()
    started = page_sessions.start_session(kind="operator", subject=subject)
    return guard.start(redirect(url_for("console.index")), started)


@bp.post("/sign-out")
def sign_out():
    guard.end("operator")
    return redirect(url_for("console.sign_in"))
