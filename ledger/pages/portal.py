"""The advertiser portal (/portal/): one organisation's pages, opened by a one-use link.

To add a page: a view on `bp` under `/<uuid:org_id>/...` that calls
`org_access(org_id, action)` (404 for any other organisation, 403 without the right)
and one service function, then renders a template that extends "portal/layout.html"
(which gets `organization` and `allowed(action)` from this module). A viewer sees no
form: templates ask `allowed(...)`, and the POST itself is refused by `org_access`.

Top-ups: Stripe through Checkout (the browser leaves for the session's page and comes
back to `checkout/success`), PortOne through its browser SDK on the `pay` page, which
then asks `confirm`. Both are credited only from the gateway's own record.
"""

import csv
import io
import uuid
from collections.abc import Iterable, Iterator

from flask import (
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from ledger.api.auth import org_access
from ledger.api.schemas.api_keys import ApiKeyCreateSchema
from ledger.api.schemas.credits import DeductionCreateSchema, EntryListArgsSchema
from ledger.api.schemas.refunds import RefundRequestCreateSchema
from ledger.api.schemas.topups import TopupCreateSchema
from ledger.book import reports
from ledger.domain.api_keys import API_KEY_SCOPES
from ledger.errors import Forbidden, NotFound, ValidationFailed
from ledger.gateways import GATEWAYS, get_gateway
from ledger.money import MoneyError, parse_amount
from ledger.pages import guard
from ledger.pages.chart import spending_chart
from ledger.pages.forms import load_form
from ledger.services import deductions, organizations, page_sessions, portal, refunds, topups

bp = guard.page_blueprint("portal", "portal")

CSV_COLUMNS = (
    "created_at",
    "id",
    "kind",
    "order_id",
    "description",
    "reference",
    "amount",
    "currency",
    "balance_after",
)


@bp.context_processor
def portal_globals() -> dict:
    session = g.get("page_session")
    if session is None:
        return {}
    return {
        "organization": organizations.get_organization(session.org_id),
        "allowed": lambda action: allowed(session.org_id, action),
    }


def allowed(org_id: uuid.UUID, action: str) -> bool:
    """Whether the signed-in user may do `action` (the API's rule), to hide what they may not."""
    try:
        org_access(org_id, action)
    except Forbidden:
        return False
    return True


def see_other(endpoint: str, **values) -> BaseResponse:
    """After a POST: the next page is a GET (reloading it posts nothing again)."""
    return redirect(url_for(endpoint, **values), code=303)


def amount_field(name: str, currency: str) -> int | None:
    """A form's amount as people write it ("50,000", "19.99"); None when left empty."""
    written = request.form.get(name, "").strip()
    if not written:
        return None
    try:
        return parse_amount(written, currency)
    except MoneyError as e:
        raise ValidationFailed(f"{name}: {e}") from e


def present(**fields: object) -> dict[str, object]:
    """The fields the user filled in (a schema's optional field is absent, not None)."""
    return {name: value for name, value in fields.items() if value is not None}


def new_order_id(prefix: str) -> str:
    """A fresh order_id for a form: submitting the same form twice replays, never repeats."""
    return f"{prefix}-{uuid.uuid4().hex}"


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


# History


def _entry_filters() -> dict:
    return load_form(
        EntryListArgsSchema(),
        present(**{k: request.args.get(k) or None for k in ("kind", "cursor", "limit")}),
    )


@bp.get("/<uuid:org_id>/transactions")
def transactions(org_id: uuid.UUID):
    org_access(org_id, "read")
    filters = _entry_filters()
    return render_template(
        "portal/transactions.html",
        page=reports.list_entries(org_id=org_id, **filters),
        kind=filters.get("kind"),
        kinds=KINDS,
    )


# The kinds of entry an organisation's history can hold, for the filter.
KINDS = (
    "topup",
    "deduction",
    "reversal",
    "grant",
    "refund_hold",
    "refund_release",
    "refund",
    "external_refund",
    "expiry",
)


@bp.get("/<uuid:org_id>/transactions.csv")
def transactions_csv(org_id: uuid.UUID):
    org_access(org_id, "read")
    kind = _entry_filters().get("kind")
    rows = portal.all_entries(org_id=org_id, kind=kind)
    return Response(
        stream_with_context(_csv(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="transactions-{org_id}.csv"'},
    )


def _csv(entries: Iterable[reports.EntryView]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.id,
                entry.kind,
                _cell(entry.order_id),
                _cell(entry.description),
                _cell(entry.reference),
                entry.amount,
                entry.currency,
                "" if entry.balance_after is None else entry.balance_after,
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cell(text: str | None) -> str:
    """Callers' text, made inert for spreadsheets (a leading = + - @ would be a formula)."""
    if not text:
        return ""
    return "'" + text if text[0] in "=+-@\t\r" else text


# Top-ups


@bp.get("/<uuid:org_id>/topups")
def topup_list(org_id: uuid.UUID):
    org_access(org_id, "read")
    currency = organizations.organization_currency(org_id)
    return render_template(
        "portal/topups.html",
        topups=topups.list_topups(org_id=org_id, limit=50).data,
        providers=[name for name in GATEWAYS if currency in get_gateway(name).currencies],
        order_id=new_order_id("portal"),
        canceled="canceled" in request.args,
    )


@bp.post("/<uuid:org_id>/topups")
def start_topup(org_id: uuid.UUID):
    org_access(org_id, "topup")
    currency = organizations.organization_currency(org_id)
    provider = request.form.get("provider")
    body = load_form(
        TopupCreateSchema(),
        present(
            order_id=request.form.get("order_id"),
            provider=provider,
            amount=amount_field("amount", currency),
            # Stripe's card form lives on its hosted Checkout page.
            checkout=provider == "stripe",
        ),
    )
    topup = topups.create_topup(org_id=org_id, currency=currency, **body)
    next_page = "portal.checkout" if body["checkout"] else "portal.pay"
    return see_other(next_page, org_id=org_id, topup_id=topup.id)


@bp.get("/<uuid:org_id>/topups/<uuid:topup_id>/checkout")
def checkout(org_id: uuid.UUID, topup_id: uuid.UUID):
    """On to Stripe's Checkout page (a page of ours first: the CSP keeps forms on this site)."""
    org_access(org_id, "topup")
    topup = topups.get_topup(org_id=org_id, topup_id=topup_id)
    if topup.status != "pending" or not topup.gateway_checkout_id:
        return redirect(url_for("portal.topup", org_id=org_id, topup_id=topup_id))
    return render_template("portal/checkout.html", topup=topup)


@bp.get("/<uuid:org_id>/topups/<uuid:topup_id>/pay")
def pay(org_id: uuid.UUID, topup_id: uuid.UUID):
    """PortOne's payment window, opened by its browser SDK; then `confirm`."""
    org_access(org_id, "topup")
    topup = topups.get_topup(org_id=org_id, topup_id=topup_id)
    if topup.status != "pending" or topup.provider != "portone":
        return redirect(url_for("portal.topup", org_id=org_id, topup_id=topup_id))
    sdk_url = current_app.config["PORTONE_BROWSER_SDK_URL"]
    guard.allow_sdk_origin(sdk_url)
    return render_template("portal/pay.html", topup=topup, sdk_url=sdk_url)


@bp.post("/<uuid:org_id>/topups/<uuid:topup_id>/confirm")
def confirm(org_id: uuid.UUID, topup_id: uuid.UUID):
    org_access(org_id, "topup")
    topups.confirm_topup(org_id=org_id, topup_id=topup_id)
    return see_other("portal.topup", org_id=org_id, topup_id=topup_id)


@bp.get("/checkout/success")
def checkout_success():
    """Stripe Checkout's success_url: ask Stripe now rather than wait for the webhook."""
    org_id = g.page_session.org_id
    org_access(org_id, "topup")
    topup = portal.finish_checkout(
        org_id=org_id, checkout_session_id=request.args.get("session_id", "")
    )
    return redirect(url_for("portal.topup", org_id=org_id, topup_id=topup.id))


@bp.get("/checkout/canceled")
def checkout_canceled():
    """Stripe Checkout's cancel_url: nothing was charged."""
    return redirect(url_for("portal.topup_list", org_id=g.page_session.org_id, canceled=1))


@bp.get("/<uuid:org_id>/topups/<uuid:topup_id>")
def topup(org_id: uuid.UUID, topup_id: uuid.UUID):
    org_access(org_id, "read")
    outlook = portal.refund_outlook(org_id=org_id, topup_id=topup_id)
    return render_template("portal/topup.html", outlook=outlook, topup=outlook.topup)


# Refunds


@bp.post("/<uuid:org_id>/topups/<uuid:topup_id>/refund-requests")
def request_refund(org_id: uuid.UUID, topup_id: uuid.UUID):
    principal = org_access(org_id, "refund")
    currency = organizations.organization_currency(org_id)
    body = load_form(
        RefundRequestCreateSchema(),
        present(
            topup_id=str(topup_id),
            amount=amount_field("amount", currency),
            reason=request.form.get("reason", "").strip(),
        ),
    )
    refunds.request_refund(org_id=org_id, requested_by=principal.subject, **body)
    return see_other("portal.topup", org_id=org_id, topup_id=topup_id)


@bp.post("/<uuid:org_id>/refund-requests/<uuid:request_id>/cancel")
def cancel_refund(org_id: uuid.UUID, request_id: uuid.UUID):
    principal = org_access(org_id, "refund")
    canceled = refunds.cancel_refund(
        org_id=org_id, request_id=request_id, canceled_by=principal.subject
    )
    return see_other("portal.topup", org_id=org_id, topup_id=canceled.topup_id)


# API keys


@bp.get("/<uuid:org_id>/api-keys")
def api_keys(org_id: uuid.UUID):
    org_access(org_id, "manage_keys")
    return render_template(
        "portal/api_keys.html",
        keys=organizations.list_api_keys(org_id=org_id),
        scopes=API_KEY_SCOPES,
    )


@bp.post("/<uuid:org_id>/api-keys")
def create_api_key(org_id: uuid.UUID):
    principal = org_access(org_id, "manage_keys")
    body = load_form(
        ApiKeyCreateSchema(),
        {"name": request.form.get("name", "").strip(), "scopes": request.form.getlist("scope")},
    )
    created = organizations.create_api_key(org_id=org_id, created_by=principal.subject, **body)
    # Rendered, not redirected: the key is shown this once and stored nowhere in clear.
    return render_template("portal/api_key_created.html", created=created)


@bp.post("/<uuid:org_id>/api-keys/<uuid:key_id>/revoke")
def revoke_api_key(org_id: uuid.UUID, key_id: uuid.UUID):
    org_access(org_id, "manage_keys")
    organizations.revoke_api_key(org_id=org_id, key_id=key_id)
    return see_other("portal.api_keys", org_id=org_id)


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
