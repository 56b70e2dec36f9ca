"""Every entry has two sides. The organisation sees its wallet move; these tests name
the account on the other side of each kind of entry, made through the API, read from the
postings by account kind:

    grant           available  <- granted_credit_expense
    top-up          available  <- gateway_clearing:<provider>
    deduction       available  -> consumed_credit_revenue
    reversal        available  <- consumed_credit_revenue
    expiry          available  -> expired_credit_breakage
    refund          held       -> gateway_clearing:<provider>   (after available -> held)
    outside refund  available + refund_shortfall -> gateway_clearing:<provider>
    refund failure  available  <- gateway_clearing:<provider>   (failed after it succeeded)
    dispute freeze  available  -> held
    dispute release held       -> available                     (won)
    dispute loss    held + refund_shortfall -> gateway_clearing:<provider>   (lost)
    shortfall settlement  available -> refund_shortfall         (credit back in a lot that owes)
    hold            available  -> reserved (the organisation's own wallet)
    capture         reserved   -> consumed_credit_revenue
    release         reserved   -> available, and expired_credit_breakage for expired lots
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ledger import clock
from ledger.extensions import db
from tests import hold_steps
from tests.factories import GrantFactory, PaidTopupFactory, expect, new_order_id
from tests.gateways.refund_steps import approve, request_refund

_LEGS = text(
    """
    SELECT e.id, a.kind, a.org_id IS NULL AS platform, p.amount
    FROM journal_entries e
    JOIN postings p ON p.entry_id = e.id
    JOIN ledger_accounts a ON a.id = p.account_id
    WHERE e.org_id = :org_id AND e.kind = :kind
    ORDER BY e.id, p.id
    """
)


def legs(app, org, kind: str) -> list[dict[str, int]]:
    """Each entry of this kind, as {account kind: amount}; wallets are the org's own,
    every other account is the platform's."""
    with app.app_context():
        rows = db.session.execute(_LEGS, {"org_id": org.id, "kind": kind}).all()
        db.session.rollback()
    entries: dict[int, dict[str, int]] = {}
    for entry_id, account, platform, amount in rows:
        assert platform == (account not in {"available", "held", "reserved"}), account
        entries.setdefault(entry_id, {})[account] = amount
    return list(entries.values())


def test_a_grant_is_paid_for_by_the_grant_expense(app, caller, org):
    GrantFactory.create(caller=caller, org=org, amount=1_000)

    assert legs(app, org, "grant") == [{"available": 1_000, "granted_credit_expense": -1_000}]


@pytest.mark.parametrize("provider", ["stripe", "portone"])
def test_a_topup_comes_out_of_its_gateways_clearing(
    app, caller, org, fake_stripe, portone, provider
):
    gateway = fake_stripe if provider == "stripe" else portone
    PaidTopupFactory.create(
        caller=caller, org=org, amount=5_000, provider=provider, gateway=gateway
    )

    assert legs(app, org, "topup") == [{"available": 5_000, f"gateway_clearing:{provider}": -5_000}]


def test_a_deduction_is_revenue_and_its_reversal_gives_the_revenue_back(app, caller, org):
    GrantFactory.create(caller=caller, org=org, amount=1_000)
    deduction = expect(caller.deduct(org, 300), 201)
    reversal = caller.client.post(
        f"/v1/orgs/{org.id}/deductions/{deduction['id']}/reversals",
        json={"order_id": new_order_id("rev"), "amount": 100},
        headers=caller.service,
    )
    expect(reversal, 201)

    assert legs(app, org, "deduction") == [{"available": -300, "consumed_credit_revenue": 300}]
    assert legs(app, org, "reversal") == [{"available": 100, "consumed_credit_revenue": -100}]


def test_expired_credit_becomes_breakage(app, caller, org):
    soon = datetime.now(UTC) + timedelta(hours=1)
    GrantFactory.create(caller=caller, org=org, amount=400, expires_at=soon)
    expect(caller.deduct(org, 150), 201)

    clock.pin(soon + timedelta(seconds=1))
    assert app.test_cli_runner().invoke(args=["ledger", "expire-lots"]).exit_code == 0

    assert legs(app, org, "expiry") == [{"available": -250, "expired_credit_breakage": 250}]


def test_a_refund_is_held_then_paid_out_through_the_gateways_clearing(
    app, caller, org, fake_stripe
):
    topup = PaidTopupFactory.create(caller=caller, org=org, amount=10_000, gateway=fake_stripe)
    request = request_refund(caller, org, topup["id"], 4_000)
    expect(approve(caller, request["id"]), 200)

    assert legs(app, org, "refund_hold") == [{"available": -4_000, "held": 4_000}]
    assert legs(app, org, "refund") == [{"held": -4_000, "gateway_clearing:stripe": 4_000}]


def test_an_outside_refund_of_spent_credit_books_the_shortfall(
    app, caller, org, fake_stripe, stripe_webhook
):
    topup = PaidTopupFactory.create(caller=caller, org=org, amount=10_000, gateway=fake_stripe)
    expect(caller.deduct(org, 7_000), 201)

    payment_intent = topup["stripe"]["payment_intent_id"]
    fake_stripe.refund_in_dashboard(payment_intent)  # all 10 000, of which 7 000 spent
    charge = fake_stripe.charge(fake_stripe.payment_intent(payment_intent)["latest_charge"])
    expect(stripe_webhook.send(fake_stripe.event("charge.refunded", charge)), 200)

    assert legs(app, org, "external_refund") == [
        {"gateway_clearing:stripe": 10_000, "available": -3_000, "refund_shortfall": -7_000}
    ]


def test_a_dispute_freezes_into_held_and_a_loss_is_paid_from_it_and_the_shortfall(
    app, caller, org, fake_stripe, stripe_webhook
):
    topup = PaidTopupFactory.create(caller=caller, org=org, amount=10_000, gateway=fake_stripe)
    deduction = expect(caller.deduct(org, 7_000), 201)
    dispute = fake_stripe.open_dispute(topup["stripe"]["payment_intent_id"])
    expect(stripe_webhook.send(fake_stripe.event("charge.dispute.created", dispute)), 200)
    lost = fake_stripe.close_dispute(dispute["id"], "lost")
    expect(stripe_webhook.send(fake_stripe.event("charge.dispute.closed", lost)), 200)
    reversal = caller.client.post(
        f"/v1/orgs/{org.id}/deductions/{deduction['id']}/reversals",
        json={"order_id": new_order_id("rev"), "amount": 2_000},
        headers=caller.service,
    )
    expect(reversal, 201)

    assert legs(app, org, "dispute_freeze") == [{"available": -3_000, "held": 3_000}]
    assert legs(app, org, "dispute_loss") == [
        {"gateway_clearing:stripe": 10_000, "held": -3_000, "refund_shortfall": -7_000}
    ]
    assert legs(app, org, "shortfall_settlement") == [
        {"available": -2_000, "refund_shortfall": 2_000}
    ]


def test_a_won_dispute_releases_and_a_failed_refund_comes_back_from_clearing(
    app, caller, org, fake_stripe, stripe_webhook
):
    topup = PaidTopupFactory.create(caller=caller, org=org, amount=10_000, gateway=fake_stripe)
    request = request_refund(caller, org, topup["id"], 4_000)
    refund_id = expect(approve(caller, request["id"]), 200)["gateway_refund_id"]
    failed = fake_stripe.settle_refund(refund_id, "failed", "lost_or_stolen_card")
    expect(stripe_webhook.send(fake_stripe.event("refund.failed", failed)), 200)
    dispute = fake_stripe.open_dispute(topup["stripe"]["payment_intent_id"], amount=1_000)
    won = fake_stripe.close_dispute(dispute["id"], "won")
    expect(stripe_webhook.send(fake_stripe.event("charge.dispute.closed", won)), 200)

    assert legs(app, org, "refund_failure") == [
        {"gateway_clearing:stripe": -4_000, "available": 4_000}
    ]
    assert legs(app, org, "dispute_release") == [{"held": -1_000, "available": 1_000}]


def test_a_hold_is_reserved_its_captures_are_revenue_and_its_release_comes_back(app, caller, org):
    soon = datetime.now(UTC) + timedelta(hours=1)
    GrantFactory.create(caller=caller, org=org, amount=300, expires_at=soon)
    GrantFactory.create(caller=caller, org=org, amount=1_000)
    hold = expect(
        hold_steps.hold(caller, org, 800, expires_at=(soon + timedelta(days=1)).isoformat()), 201
    )
    expect(hold_steps.capture(caller, org, hold["id"], 100), 201)

    clock.pin(soon + timedelta(seconds=1))  # 200 of the expiring lot is still reserved
    expect(hold_steps.void(caller, org, hold["id"]), 200)

    assert legs(app, org, "hold") == [{"available": -800, "reserved": 800}]
    assert legs(app, org, "hold_capture") == [{"reserved": -100, "consumed_credit_revenue": 100}]
    assert legs(app, org, "hold_release") == [
        {"reserved": -700, "available": 500, "expired_credit_breakage": 200}
    ]
