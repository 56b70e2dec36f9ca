"""The advertiser portal (/portal/): one organisation's pages, opened by a one-use link.

To add a page: a view on `bp` under `/<uuid:org_id>/...` that calls
`org_access(org_id, action)` (404 for any other organisation, 403 without the right)
and one service function, then renders a template that extends "base.html".
"""

import uuid

from flask import g, redirect, render_template, url_for

from ledger.api.auth import org_access
from ledger.book import reports
from ledger.pages import guard
from ledger.services import page_sessions
from ledger.services.organizations import get_organization

bp = guard.page_blueprint("portal", "portal")


@bp.get("/")
def index():
    return redirect(url_for("portal.balance", org_id=g.page_session.org_id))


@bp.get("/<uuid:org_id>/")
def balance(org_id: uuid.UUID):
    org_access(org_id, "read")
    organization = get_organization(org_id)
    return render_template(
        "portal/balance.html",
        organization=organization,
        balance=reports.balance(org_id=org_id, currency=organization.currency),
    )


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
