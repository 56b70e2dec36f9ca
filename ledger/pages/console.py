"""The operators' console (/console/): sign-in, sign-out, and the pages behind them.

To add a page: a view on `bp` that calls `require_operator()` and one service function,
then renders a template that extends "base.html". POST forms include
`{{ csrf_field() }}`.
"""

from flask import redirect, render_template, url_for

from ledger.api.auth import require_operator
from ledger.pages import guard, oidc
from ledger.services import page_sessions
from ledger.services.refund_queue import refund_queue

bp = guard.page_blueprint("console", "operator")


@bp.get("/")
def index():
    require_operator()
    return render_template("console/index.html", refunds=refund_queue())


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
