"""A campaign's budget as a bookkeeping story: every wallet and the other legs by name."""

from datetime import UTC, datetime, timedelta

from tests.hold_steps import capture, get_hold, held, platform_leg, void

REVENUE = "consumed_credit_revenue"
BREAKAGE = "expired_credit_breakage"


def test_a_campaign_reserves_spends_and_gives_back(app, caller, org, verify_ledger):
    caller.grant(org, 10000)
    caller.grant(org, 2000, expires_at=datetime.now(UTC) + timedelta(days=30))

    budget = held(caller, org, 5000)  # the expiring grant first, then 3,000 of the other
    for tick in (700, 900, 400):
        assert capture(caller, org, budget["id"], tick).status_code == 201
    assert caller.deduct(org, 1000).status_code == 201  # beside the campaign, as usual
    second = held(caller, org, 2000)
    assert capture(caller, org, second["id"], 500, final=True).status_code == 201
    assert void(caller, org, budget["id"]).status_code == 200

    balance = caller.balance(org)
    # 12,000 in; spent 2,000 + 1,000 + 500; nothing left reserved.
    assert (balance["available"], balance["reserved"], balance["held"]) == (8500, 0, 0)
    assert platform_leg(app, org, REVENUE) == 3500
    assert platform_leg(app, org, BREAKAGE) == 0
    assert get_hold(caller, org, budget["id"])["captured"] == 2000
    assert get_hold(caller, org, second["id"])["status"] == "captured"
    # The expiring grant was spent first: what came back went to the lot that never expires.
    assert sorted(lot["remaining"] for lot in balance["lots"]) == [8500]
    verify_ledger()
