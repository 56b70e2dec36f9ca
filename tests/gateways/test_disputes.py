"""Disputes (chargebacks) through the fakes: what is left of the top-up is frozen at once,
a won dispute gives it back, a lost one sends it to the gateway and books the spent part
as the dispute's shortfall; refunds of a disputed top-up are refused. Every dispute is
fetched from the gateway, never read from the webhook's body."""

import pytest
from sqlalchemy import text

from ledger.book.verify import run_checks
from ledger.extensions import db
from tests.gateways.gateway_steps import (
    admin_disputes,
    books_are_sound,
    disputes_of,
    history,
    portone_webhook,
    reverse,
)
from tests.gateways.refund_steps import (
    ask_refund,
    paid_portone_topup,
    paid_stripe_topup,
    topup_of,
)


def _dispute_event(fake, stripe_webhook, type_, dispute_id, **forged):
    """A `charge.dispute.*` event; `forged` fields overwrite what Stripe has (never trusted)."""
    r = stripe_webhook.send(fake.event(type_, {**fake.dispute(dispute_id), **forged}))
    assert r.status_code == 200, r.json
    return r


@pytest.fixture
def disputed(caller, org, fake_stripe, stripe_webhook):
    """A ₩10,000 Stripe top-up with ₩4,000 spent, then disputed in full."""
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    spent = caller.deduct(org, 4000)
    assert spent.status_code == 201
    opened = fake_stripe.open_dispute(topup["stripe"]["payment_intent_id"])
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.created", opened["id"])
    return topup, opened, spent.json


def test_an_open_dispute_freezes_what_is_left_and_refunds_are_refused(
    app, caller, org, disputed, verify_ledger
):
    topup, opened, _ = disputed

    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 6000)
    assert caller.deduct(org, 1).status_code == 402
    [dispute] = disputes_of(caller, org)
    assert (dispute["topup_id"], dispute["provider"], dispute["status"]) == (
        topup["id"],
        "stripe",
        "open",
    )
    assert (dispute["amount"], dispute["frozen"], dispute["shortfall"]) == (10000, 6000, 0)
    assert dispute["closed_at"] is None
    refused = ask_refund(caller, org, topup["id"])
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "topup_disputed")
    [freeze] = [e for e in history(caller, org) if e["kind"] == "dispute_freeze"]
    assert (freeze["amount"], freeze["balance_after"]) == (-6000, 0)
    books_are_sound(app, verify_ledger, org)


def test_a_won_dispute_gives_the_frozen_credit_back_to_the_lot(
    app, caller, org, fake_stripe, stripe_webhook, disputed, verify_ledger
):
    topup, opened, _ = disputed
    fake_stripe.withdraw_dispute_funds(opened["id"])
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.funds_withdrawn", opened["id"])
    assert caller.balance(org)["held"] == 6000
    fake_stripe.close_dispute(opened["id"], "won")

    # The body says lost; Stripe's record says won, and only that counts.
    _dispute_event(
        fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"], status="lost"
    )
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])

    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (6000, 0)
    [lot] = balance["lots"]
    assert lot["remaining"] == 6000
    [dispute] = disputes_of(caller, org, "won")
    assert (dispute["frozen"], dispute["shortfall"]) == (6000, 0)
    assert dispute["closed_at"] is not None
    assert disputes_of(caller, org, "open") == []
    assert ask_refund(caller, org, topup["id"], 1000).status_code == 201  # refundable again
    books_are_sound(app, verify_ledger, org)


def test_a_lost_dispute_sends_the_frozen_credit_back_and_lists_the_spent_part(
    app, caller, org, fake_stripe, stripe_webhook, disputed, verify_ledger
):
    topup, opened, _ = disputed
    fake_stripe.withdraw_dispute_funds(opened["id"])
    fake_stripe.close_dispute(opened["id"], "lost")

    # Delivered twice, out of order with an update: one loss is booked.
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.updated", opened["id"])
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])

    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 0)
    [dispute] = disputes_of(caller, org)
    assert (dispute["status"], dispute["frozen"], dispute["shortfall"]) == ("lost", 6000, 4000)
    assert dispute["id"] in [d["id"] for d in admin_disputes(caller, "lost")]
    [loss] = [e for e in history(caller, org) if e["kind"] == "dispute_loss"]
    assert (loss["amount"], loss["balance_after"]) == (-6000, 0)  # the frozen credit it took
    refused = ask_refund(caller, org, topup["id"])
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "topup_disputed")
    books_are_sound(app, verify_ledger, org)


def test_credit_returning_to_a_lot_after_a_lost_dispute_settles_its_shortfall_first(
    app, caller, org, fake_stripe, stripe_webhook, disputed, verify_ledger
):
    _, opened, spent = disputed
    fake_stripe.close_dispute(opened["id"], "lost")
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])

    reverse(caller, org, spent["id"], 3000)
    assert caller.balance(org)["available"] == 0  # all of it makes good the 4,000 lost
    reverse(caller, org, spent["id"])  # the last 1,000: settles the rest of the shortfall
    assert caller.balance(org)["available"] == 0
    settlements = [e for e in history(caller, org) if e["kind"] == "shortfall_settlement"]
    assert sorted(e["amount"] for e in settlements) == [-3000, -1000]
    books_are_sound(app, verify_ledger, org)


def test_a_dispute_seen_only_once_closed_is_recorded_and_settled_in_one_go(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 5000)
    opened = fake_stripe.open_dispute(topup["stripe"]["payment_intent_id"], amount=3000)
    fake_stripe.close_dispute(opened["id"], "won")  # `created` was lost on the way

    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])

    [dispute] = disputes_of(caller, org)
    assert (dispute["status"], dispute["amount"], dispute["frozen"]) == ("won", 3000, 3000)
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (5000, 0)
    books_are_sound(app, verify_ledger, org)


def test_a_portone_chargeback_lost_is_taken_once_not_again_as_a_refund(
    app, caller, org, portone, verify_ledger
):
    topup = paid_portone_topup(caller, portone, org, 30000)
    payment_id = topup["portone"]["payment_id"]
    assert caller.deduct(org, 10000).status_code == 201
    portone.open_dispute(payment_id)
    assert (
        portone_webhook(caller, portone, "Transaction.DisputeCreated", payment_id).status_code
        == 200
    )
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 20000)

    portone.resolve_dispute(payment_id, lost=True)  # PortOne cancels the rest: CHARGEBACK
    [chargeback] = portone.payment(payment_id)["cancellations"]
    for type_, extra in [
        ("Transaction.Cancelled", {"cancellation_id": chargeback["id"]}),
        ("Transaction.DisputeResolved", {}),
        ("Transaction.Cancelled", {"cancellation_id": chargeback["id"]}),
    ]:
        assert portone_webhook(caller, portone, type_, payment_id, **extra).status_code == 200

    [dispute] = disputes_of(caller, org)
    assert (dispute["status"], dispute["amount"], dispute["frozen"], dispute["shortfall"]) == (
        "lost",
        30000,
        20000,
        10000,
    )
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 0)
    # The chargeback is the dispute's, not a refund made outside the service.
    assert topup_of(caller, org, topup["id"])["refunded_amount"] == 0
    books_are_sound(app, verify_ledger, org)


def test_a_portone_dispute_resolved_without_chargeback_is_won(
    app, caller, org, portone, verify_ledger
):
    topup = paid_portone_topup(caller, portone, org, 30000)
    payment_id = topup["portone"]["payment_id"]
    portone.open_dispute(payment_id)
    portone_webhook(caller, portone, "Transaction.DisputeCreated", payment_id)
    portone.resolve_dispute(payment_id, lost=False)
    portone_webhook(caller, portone, "Transaction.DisputeResolved", payment_id)

    [dispute] = disputes_of(caller, org, "won")
    assert dispute["frozen"] == 30000
    assert caller.balance(org)["available"] == 30000
    books_are_sound(app, verify_ledger, org)


def test_disputes_are_the_organisations_own(caller, org, disputed):
    other = caller.create_org()
    assert disputes_of(caller, other) == []
    r = caller.client.get(f"/v1/orgs/{org.id}/disputes", headers=caller.user(other))
    assert r.status_code == 404
    r = caller.client.get("/v1/admin/disputes", headers=caller.user(org))
    assert r.status_code == 403


def test_a_pending_refund_request_is_canceled_and_its_hold_frozen_when_a_dispute_opens(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    request = ask_refund(caller, org, topup["id"], 3000).json
    opened = fake_stripe.open_dispute(topup["stripe"]["payment_intent_id"])
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.created", opened["id"])

    canceled = caller.client.get(
        f"/v1/orgs/{org.id}/refund-requests/{request['id']}", headers=caller.user(org)
    ).json
    assert (canceled["status"], canceled["canceled_by"]) == ("canceled", "system:dispute")
    [dispute] = disputes_of(caller, org)
    assert dispute["frozen"] == 10000
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 10000)
    books_are_sound(app, verify_ledger, org)


def test_credit_coming_back_to_a_disputed_lot_is_frozen_with_the_rest(
    app, caller, org, fake_stripe, stripe_webhook, disputed, verify_ledger
):
    _, opened, spent = disputed
    reverse(caller, org, spent["id"], 1500)

    [dispute] = disputes_of(caller, org)
    assert dispute["frozen"] == 7500
    balance = caller.balance(org)
    assert (balance["available"], balance["held"]) == (0, 7500)
    fake_stripe.close_dispute(opened["id"], "lost")
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])
    [lost] = disputes_of(caller, org)
    assert (lost["frozen"], lost["shortfall"]) == (7500, 2500)
    books_are_sound(app, verify_ledger, org)


def test_verify_finds_a_lot_owing_other_than_its_history_says(
    app, caller, org, fake_stripe, stripe_webhook, disputed
):
    topup, opened, _ = disputed
    fake_stripe.close_dispute(opened["id"], "lost")
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])
    change = "UPDATE lots SET shortfall = shortfall + :delta WHERE topup_id = :topup_id"
    with app.app_context():
        db.session.execute(text(change), {"delta": 1, "topup_id": topup["id"]})
        db.session.commit()
        try:
            findings = run_checks()
        finally:
            db.session.execute(text(change), {"delta": -1, "topup_id": topup["id"]})
            db.session.commit()
        assert run_checks() == []
    assert [f for f in findings if "owes 4001" in f]


def test_a_dispute_opening_and_closing_are_events(
    caller, org, fake_stripe, stripe_webhook, disputed
):
    topup, opened, _ = disputed
    fake_stripe.close_dispute(opened["id"], "won")
    _dispute_event(fake_stripe, stripe_webhook, "charge.dispute.closed", opened["id"])

    r = caller.client.get(
        f"/v1/orgs/{org.id}/events?type=dispute.created", headers=caller.user(org)
    )
    [created] = r.json["data"]
    assert (created["data"]["topup_id"], created["data"]["status"]) == (topup["id"], "open")
    r = caller.client.get(f"/v1/orgs/{org.id}/events?type=dispute.closed", headers=caller.user(org))
    [closed] = r.json["data"]
    assert (closed["data"]["status"], closed["data"]["frozen"]) == ("won", 6000)
