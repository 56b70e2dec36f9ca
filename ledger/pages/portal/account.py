"""The balance page, the sandbox's spend action on it, and signing in and out."""

import uuid

from flask import current_app, g, redirect, render_template, request, url_for

from ledger.api.auth import org_access
from ledger.api.schemas.credits import DeductionCreateSchema
from ledger.errors import NotFound
from ledger.pages import guard
from ledger.pages.chart import spending_chart
from ledger.pages.forms import load_form
from ledger.pages.portal.blueprint import amount_field, bp, new_order_id, present, see_other
from ledger.services import deductions, organizations, page_sessions, portal


@bp.get("/")
def index():
    return redirect(url_for("portal.balance", org_id=g.page_session.org_id))


@bp.get("/<uuid:org_id>/")
def balance(org_id: uuid.UUID):
    org_access(org_id, "read")
    overview = portal.overview(org_id=org_id)
    return render_template(
        "portal/balance.html",
        overview=overview,
        balance=overview.balance,
        chart=spending_chart(overview.spending, overview.balance.currency),
    )


# The sandbox (`make demo`) only


@bp.post("/<uuid:org_id>/sandbox/spend")
def simulate_spend(org_id: uuid.UUID):
    """Spend as the platform's campaign engine would: the sandbox has no engine, so its
    portal stands in for one, for the users who may top up."""
    if not current_app.config["SANDBOX"]:
        raise NotFound("no such page")
    org_access(org_id, "topup")
    currency = organizations.organization_currency(org_id)
    body = load_form(
        DeductionCreateSchema(),
        present(
            order_id=new_order_id("sandbox-spend"),
            amount=amount_field("amount", currency),
            description=request.form.get("campaign", "").strip() or "Simulated campaign spend",
        ),
    )
    deductions.deduct(org_id=org_id, currency=currency, **body)
    return see_other("portal.balance", org_id=org_id)


# Signing in and out


@bp.get("/sign-in/<token>")
@guard.public
def redeem_link(token: str):
    started = page_sessions.redeem_sign_in_link(kind="portal", token=token)
    return guard.start(redirect(url_for("portal.index")), started)


@bp.post("/sign-out")
def sign_out():
    return_url = g.page_session.return_url
    guard.end("portal")
    return render_template("portal/signed_out.html", return_url=return_url)
