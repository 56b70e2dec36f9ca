"""Real threads against the real database: no overdraft, one effect per order_id."""

from tests.helpers import new_order_id


def test_50_threads_of_20_deductions_never_overdraw(app, caller, org, run_threads, verify_ledger):
    caller.grant(org, 600)

    def spend(i):
        client = app.test_client()
        return [caller.deduct(org, 1, client=client).status_code for _ in range(20)]

    statuses = [s for thread in run_threads(50, spend) for s in thread]

    assert statuses.count(201) == 600
    assert statuses.count(402) == 400
    balance = caller.balance(org)
    assert balance["available"] == 0
    assert all(lot["remaining"] == 0 for lot in balance["lots"])
    verify_ledger()


def test_20_concurrent_duplicates_make_one_entry_and_the_same_answer(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    order_id = new_order_id()

    def send(i):
        r = caller.deduct(org, 250, order_id=order_id, client=app.test_client())
        return r.status_code, r.json, r.headers.get("Idempotent-Replayed")

    answers = run_threads(20, send)

    assert {status for status, _, _ in answers} == {201}
    assert len({repr(sorted(body.items())) for _, body, _ in answers}) == 1
    assert sum(1 for *_, replayed in answers if replayed == "true") == 19
    assert caller.balance(org)["available"] == 750
    entries = caller.client.get(
        f"/v1/orgs/{org.id}/transactions?kind=deduction", headers=caller.service
    ).json["data"]
    assert [e["order_id"] for e in entries] == [order_id]
    verify_ledger()


def test_concurrent_reversals_never_return_more_than_was_deducted(
    app, caller, org, run_threads, verify_ledger
):
    caller.grant(org, 1000)
    deduction = caller.deduct(org, 100).json

    def reverse(i):
        return (
            app.test_client()
            .post(
                f"/v1/orgs/{org.id}/deductions/{deduction['id']}/reversals",
                json={"order_id": new_order_id("rev"), "amount": 30},
                headers=caller.service,
            )
            .status_code
        )

    statuses = run_threads(10, reverse)

    assert statuses.count(201) == 3
    assert statuses.count(422) == 7
    assert caller.balance(org)["available"] == 990
    verify_ledger()
