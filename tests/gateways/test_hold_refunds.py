"""Holds next to refunds: a reserved part of a paid lot is not refundable until released."""

from tests.gateways.refund_steps import ask_refund, paid_stripe_topup, request_refund
from tests.hold_steps import capture, held, hold, platform_leg, void


def test_a_reserved_part_of_a_paid_lot_is_refundable_only_once_released(
    caller, org, fake_stripe, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    h = held(caller, org, 6000)

    beyond = ask_refund(caller, org, topup["id"], 4001)
    assert beyond.status_code == 422
    assert beyond.json["error"]["code"] == "amount_exceeds_refundable"
    assert beyond.json["error"]["details"]["refundable"] == 4000

    capture(caller, org, h["id"], 1000)
    assert void(caller, org, h["id"]).status_code == 200
    request = request_refund(caller, org, topup["id"])
    assert request["amount"] == 9000  # what the capture spent is gone; the rest came back
    verify_ledger()


def test_credit_held_for_a_refund_cannot_be_reserved(caller, org, fake_stripe, verify_ledger):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    request_refund(caller, org, topup["id"], 7000)

    r = hold(caller, org, 3001)
    assert r.status_code == 402
    assert r.json["error"]["details"]["available"] == 3000
    held(caller, org, 3000)
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"], balance["held"]) == (0, 3000, 7000)
    verify_ledger()


def test_a_released_hold_settles_a_refund_shortfall_first(
    app, caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    h = held(caller, org, 6000)
    capture(caller, org, h["id"], 1000)
    payment_intent = topup["stripe"]["payment_intent_id"]
    fake_stripe.refund_in_dashboard(payment_intent)  # all 10,000: the reserved part was spent
    charge = fake_stripe.charge(fake_stripe.payment_intent(payment_intent)["latest_charge"])
    assert stripe_webhook.send(fake_stripe.event("charge.refunded", charge)).status_code == 200
    assert caller.balance(org)["available"] == 0

    assert void(caller, org, h["id"]).status_code == 200

    # The 5,000 that came back to the lot make good the shortfall instead of being spendable.
    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"]) == (0, 0)
    assert platform_leg(app, org, "refund_shortfall") == -6000 + 5000
    verify_ledger()


def test_a_released_hold_on_a_disputed_top_up_is_frozen_with_the_rest(
    caller, org, fake_stripe, stripe_webhook, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    h = held(caller, org, 6000)
    dispute = fake_stripe.open_dispute(topup["stripe"]["payment_intent_id"])
    r = stripe_webhook.send(fake_stripe.event("charge.dispute.created", dispute))
    assert r.status_code == 200
    assert caller.balance(org)["held"] == 4000  # what was left of the lot, not the hold

    assert capture(caller, org, h["id"], 1000, final=True).status_code == 201

    balance = caller.balance(org)
    assert (balance["available"], balance["reserved"], balance["held"]) == (0, 0, 9000)
    verify_ledger()
