"""Real threads: `sync-topups` run twice at once beside the webhook it stands in for, and a
dispute's events delivered at once; each credits, freezes and settles once."""

from datetime import timedelta

from ledger.services.sync import sync_topups
from tests.fakes.stripe import StripeWebhook
from tests.gateways.gateway_steps import books_are_sound, disputes_of, portone_webhook
from tests.gateways.refund_steps import entries, paid_stripe_topup
from tests.helpers import new_order_id


def test_sync_topups_twice_at_once_beside_the_late_webhook_credits_once(
    app, caller, org, portone, run_threads, verify_ledger
):
    r = caller.client.post(
        f"/v1/orgs/{org.id}/topups",
        json={"order_id": new_order_id("top"), "amount": 40000, "provider": "portone"},
        headers=caller.user(org),
    )
    payment_id = r.json["portone"]["payment_id"]
    portone.issue_virtual_account(payment_id, 40000)
    portone.deposit(payment_id)

    def race(i):
        if i == 3:
            return portone_webhook(caller, portone, "Transaction.Paid", payment_id).status_code
        with app.app_context():
            return sync_topups(older_than=timedelta(0)).unavailable

    outcomes = run_threads(4, race)

    assert outcomes[3] == 200
    assert caller.balance(org)["available"] == 40000
    assert len(entries(caller, org, "topup")) == 1
    books_are_sound(app, verify_ledger, org)


def test_a_disputes_events_delivered_at_once_freeze_and_close_it_once(
    app, caller, org, fake_stripe, run_threads, verify_ledger
):
    topup = paid_stripe_topup(caller, fake_stripe, org, 10000)
    assert caller.deduct(org, 2500).status_code == 201
    opened = fake_stripe.open_dispute(topup["stripe"]["payment_intent_id"])
    fake_stripe.close_dispute(opened["id"], "lost")
    types = ["charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.closed"]

    def deliver(i):
        event = fake_stripe.event(types[i % 3], fake_stripe.dispute(opened["id"]))
        return StripeWebhook(app.test_client(), fake_stripe).send(event).status_code

    assert run_threads(6, deliver) == [200] * 6

    [dispute] = disputes_of(caller, org)
    assert (dispute["status"], dispute["frozen"], dispute["shortfall"]) == ("lost", 7500, 2500)
    assert len(entries(caller, org, "dispute_freeze")) == 1
    assert len(entries(caller, org, "dispute_loss")) == 1
    books_are_sound(app, verify_ledger, org)
