"""Expiring lots, and the CLI commands (verify, token, expire-lots)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from ledger import clock
from ledger.extensions import db
from ledger.services.ledger_health import ledger_health


def test_expired_credit_is_not_spendable_and_expire_lots_moves_it_once(
    app, caller, org, run_threads, verify_ledger
):
    soon = datetime.now(UTC) + timedelta(hours=1)
    expiring = caller.grant(org, 300, expires_at=soon)
    caller.grant(org, 100)
    caller.deduct(org, 50)  # taken from the expiring lot

    clock.pin(soon + timedelta(seconds=1))
    assert caller.balance(org)["available"] == 100
    assert caller.deduct(org, 101).status_code == 402

    runner = app.test_cli_runner()
    results = run_threads(3, lambda i: runner.invoke(args=["ledger", "expire-lots"]).exit_code)
    assert results == [0, 0, 0]

    with app.app_context():
        expiries = db.session.execute(
            text(
                "SELECT count(*), sum(p.amount) FROM journal_entries e JOIN postings p "
                "ON p.entry_id = e.id AND p.balance_after IS NOT NULL "
                "WHERE e.org_id = :o AND e.kind = 'expiry'"
            ),
            {"o": org.id},
        ).one()
    assert tuple(expiries) == (1, -250)
    assert expiring["id"] not in {lot["id"] for lot in caller.balance(org)["lots"]}
    verify_ledger()


def test_verify_command_passes_on_a_sound_ledger_and_fails_otherwise(app, caller, org):
    caller.grant(org, 100)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["ledger", "verify"])
    assert ok.exit_code == 0, ok.output

    with app.app_context():
        # Break the ledger behind the engine's back: a wallet that disagrees with its postings.
        db.session.execute(
            text(
                "UPDATE ledger_accounts SET balance = balance + 1 "
                "WHERE org_id = :o AND kind = 'available'"
            ),
            {"o": org.id},
        )
        db.session.commit()
    try:
        bad = runner.invoke(args=["ledger", "verify"])
        assert bad.exit_code == 1
        assert "wallets equal their postings" in bad.output
        assert "lots' remaining equals the available wallet" in bad.output
        with app.app_context():  # kept for the console's health page
            last = ledger_health().last_verify
            assert last.source == "command"
            assert not last.ok
            assert any("wallets equal their postings" in f for f in last.findings)
    finally:
        with app.app_context():
            db.session.execute(
                text(
                    "UPDATE ledger_accounts SET balance = balance - 1 "
                    "WHERE org_id = :o AND kind = 'available'"
                ),
                {"o": org.id},
            )
            db.session.commit()


def test_token_command_mints_a_working_token(app, caller, org):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "token", "--org", org.id, "--role", "viewer"])
    assert result.exit_code == 0
    token = result.output.strip()
    r = caller.client.get(f"/v1/orgs/{org.id}/balance", headers=caller.auth(token))
    assert r.status_code == 200
    operator = runner.invoke(args=["ledger", "token", "--operator"]).output.strip()
    r = caller.client.get("/v1/admin/ledger/trial-balance", headers=caller.auth(operator))
    assert r.status_code == 200
