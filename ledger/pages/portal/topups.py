"""Top-ups (Stripe Checkout, PortOne's browser SDK), a top-up's page, and its refunds."""

import uuid

from flask import current_app, g, redirect, render_template, request, url_for

from ledger.api.auth import org_access
from ledger.api.schemas.refunds import RefundRequestCreateSchema
from ledger.api.schemas.topups import TopupCreateSchema
from ledger.domain.refunds import REFUND_BANKS
from ledger.gateways import GATEWAYS, get_gateway
from ledger.pages import guard
from ledger.pages.forms import load_form
from ledger.pages.portal.blueprint import amount_field, bp, new_order_id, present, see_other
from ledger.services import organizations, portal, refunds, topups


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
    return render_template(
        "portal/topup.html", outlook=outlook, topup=outlook.topup, banks=sorted(REFUND_BANKS)
    )


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
            refund_account=_refund_account(),
        ),
    )
    refunds.request_refund(org_id=org_id, requested_by=principal.subject, **body)
    return see_other("portal.topup", org_id=org_id, topup_id=topup_id)


def _refund_account() -> dict[str, str] | None:
    """The bank account of a bank-transfer (virtual account) top-up's refund, if given."""
    fields = {name: request.form.get(f"account_{name}", "").strip() for name in ACCOUNT_FIELDS}
    return fields if any(fields.values()) else None


ACCOUNT_FIELDS = ("bank", "number", "holder_name")


@bp.post("/<uuid:org_id>/refund-requests/<uuid:request_id>/cancel")
def cancel_refund(org_id: uuid.UUID, request_id: uuid.UUID):
    principal = org_access(org_id, "refund")
    canceled = refunds.cancel_refund(
        org_id=org_id, request_id=request_id, canceled_by=principal.subject
    )
    return see_other("portal.topup", org_id=org_id, topup_id=canceled.topup_id)
