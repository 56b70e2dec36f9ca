"""Top-ups and webhook events are counted in /metrics by provider and outcome."""

import re

from tests.gateways.stripe_steps import create_topup


def sample(client, name, **labels) -> float:
    """The value of one sample in the /metrics text (0 when absent)."""
    text = client.get("/metrics").get_data(as_text=True)
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    match = re.search(rf"^{name}{{{re.escape(wanted)}}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_topups_and_webhooks_are_counted(caller, org, fake_stripe, stripe_webhook):
    client = caller.client
    counted = {
        "created": lambda: sample(
            client, "ledger_topups_total", outcome="created", provider="stripe"
        ),
        "paid": lambda: sample(client, "ledger_topups_total", outcome="paid", provider="stripe"),
        "processed": lambda: sample(
            client, "ledger_webhook_events_total", provider="stripe", result="processed"
        ),
        "duplicate": lambda: sample(
            client, "ledger_webhook_events_total", provider="stripe", result="duplicate"
        ),
        "invalid": lambda: sample(
            client, "ledger_webhook_events_total", provider="stripe", result="invalid_signature"
        ),
    }
    before = {name: read() for name, read in counted.items()}

    answer = create_topup(caller, org, 1000)
    intent = fake_stripe.succeed_payment(answer["stripe"]["payment_intent_id"])
    event = fake_stripe.event("payment_intent.succeeded", intent)
    assert stripe_webhook.send(event).status_code == 200
    assert stripe_webhook.send(event).status_code == 200
    forged = stripe_webhook.send_raw(b'{"id": "evt_forged"}', "t=1,v1=00")
    assert forged.status_code == 400

    after = {name: read() for name, read in counted.items()}
    assert {name: after[name] - before[name] for name in counted} == {
        "created": 1,
        "paid": 1,
        "processed": 1,
        "duplicate": 1,
        "invalid": 1,
    }
