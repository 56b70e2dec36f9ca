"""Batches and single deductions at once on one organisation, sharing order_ids:
no deadlock, no overdraft, one entry per order_id."""

import random
from collections import Counter


def test_batches_and_singles_sharing_keys_never_deadlock_or_overdraw(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    pool = [f"shared-{n}" for n in range(1500)]

    def batch_worker(i):
        client = app.test_client()
        rng = random.Random(i)  # noqa: S311 - reproducible key choice
        statuses = []
        for _ in range(5):
            keys = rng.sample(pool, 40)  # unsorted, overlapping other batches' keys
            r = client.post(
                f"/v1/orgs/{org.id}/deductions/batch",
                json={"deductions": [{"order_id": k, "amount": 1} for k in keys]},
                headers=caller.service,
            )
            assert r.status_code == 200, r.json
            statuses += [x["status"] for x in r.json["results"]]
        return statuses

    def single_worker(i):
        client = app.test_client()
        rng = random.Random(100 + i)  # noqa: S311
        return [
            caller.deduct(org, 1, order_id=rng.choice(pool), client=client).status_code
            for _ in range(40)
        ]

    results = run_threads(16, lambda i: batch_worker(i) if i % 2 else single_worker(i))

    statuses = Counter(s for thread in results for s in thread)
    assert set(statuses) <= {201, 402}, statuses
    assert statuses[402] > 0  # more distinct keys than credit: the wallet ran dry
    entries = []
    cursor = ""
    while True:
        page = caller.client.get(
            f"/v1/orgs/{org.id}/transactions?kind=deduction&limit=200{cursor}",
            headers=caller.service,
        ).json
        entries += page["data"]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    per_order = Counter(e["order_id"] for e in entries)
    assert max(per_order.values()) == 1
    assert caller.balance(org)["available"] == 1000 - len(entries)
    assert len(entries) == 1000
    verify_ledger()
