"""`make bench`: the service under gunicorn against the ceiling of its own SQL.

Creates a database (on DATABASE_URL's server, or the embedded one), seeds it, starts
gunicorn with gunicorn.conf.py, loads it from this process over loopback with 16
clients, then drives the deduction's SQL straight over psycopg at the same concurrency
on the same database. Prints one table and writes it to bench/results/latest.md.
"""

import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import text

from bench import ceiling, holds, load, seed
from config import Config
from ledger.app import create_app
from ledger.book import REVENUE, platform_account, unit_of_work
from ledger.book.reports import encode_cursor
from ledger.book.verify import run_checks
from ledger.cli import mint_token
from ledger.extensions import db
from tests.database import create_database, drop_database
from tests.server import Gunicorn, migrate

CLIENTS = 16
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
SPREAD_ORGS = 1000
BATCH = 100
RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    url = create_database("ledger_bench")
    try:
        bench(url)
    finally:
        drop_database(url)


def bench(url: str) -> None:
    migrate(url)

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    with app.app_context():
        started = time.monotonic()
        spread = [seed.funded_org(10**9) for _ in range(SPREAD_ORGS)]
        # Two fresh sets, first deducted from side by side: equally cold caches.
        unwatched = [seed.funded_org(10**9) for _ in range(SPREAD_ORGS)]
        watched = [seed.watched_org(10**9) for _ in range(SPREAD_ORGS)]
        hot = seed.funded_org(10**12)
        empty = seed.funded_org(1)
        history = seed.org_with_history(1_000_000)
        deep_cursor = _cursor_at_depth(history, pages=1000, limit=50)
        with unit_of_work():
            revenue = platform_account(REVENUE, "KRW")
        seeded_holds = holds.seed(spread)
        print(f"seeded in {time.monotonic() - started:.0f}s", flush=True)
        token = mint_token(app.config, sub="bench", roles=["service"], ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    rows = []
    with Gunicorn(url, log_path=RESULTS / "gunicorn.log.tmp") as server:

        def measure(name, make_request, per_request=1, seconds=SECONDS):
            result = load.run(
                server.base,
                headers,
                make_request,
                clients=CLIENTS,
                seconds=seconds,
                per_request=per_request,
            )
            print(f"{name}: {result.throughput:.0f}/s {dict(result.statuses)}", flush=True)
            return result

        def deduction(orgs):
            return lambda i, n: (
                "POST",
                f"/v1/orgs/{orgs[(i * 7919 + n) % len(orgs)]}/deductions",
                {"order_id": f"d-{i}-{n}-{time.monotonic_ns()}", "amount": 1},
            )

        def batch(orgs):
            return lambda i, n: (
                "POST",
                f"/v1/orgs/{orgs[(i * 7919 + n) % len(orgs)]}/deductions/batch",
                {
                    "deductions": [
                        {"order_id": f"b-{i}-{n}-{k}-{time.monotonic_ns()}", "amount": 1}
                        for k in range(BATCH)
                    ]
                },
            )

        measure("warm-up", deduction(spread), seconds=3)
        single_spread = measure("single spread", deduction(spread))
        single_hot = measure("single hot", deduction([hot]))
        hold_create = measure("hold create spread", holds.create(spread))
        hold_capture = measure("hold capture spread", holds.capture(seeded_holds))
        hold_void = measure("hold void spread", holds.void(seeded_holds, CLIENTS))
        batch_spread = measure("batch spread", batch(spread), per_request=BATCH)
        batch_hot = measure("batch hot", batch([hot]), per_request=BATCH)
        # The same deductions with the outbox at work: every organisation has a
        # low-balance threshold (checked under the wallet lock by every deduction) and an
        # endpoint takes every event, against organisations without a threshold. Side by
        # side (half the clients each), so the other tenants of this machine hit both
        # alike, on organisations no request has touched yet (each worker's caches are as
        # cold for both). No delivery worker runs meanwhile: it is its own process.
        compared = load.side_by_side(
            server.base,
            headers,
            {"outbox off": deduction(unwatched), "outbox on": deduction(watched)},
            clients=CLIENTS,
            seconds=SECONDS * 2,
        )
        outbox_off, outbox_on = compared["outbox off"], compared["outbox on"]
        for name, result in compared.items():
            print(f"{name}: {result.throughput:.0f}/s {dict(result.statuses)}", flush=True)
        # What autovacuum does after the write phases, done now rather than in the middle
        # of a read measurement on this 2-core machine.
        settle(url)

        def compare(name_a, request_a, name_b, request_b):
            """Two read scenarios in alternating halves, so drift hits both alike."""
            halves = [
                (
                    measure(name_a, request_a, seconds=SECONDS / 4),
                    measure(name_b, request_b, seconds=SECONDS / 4),
                )
                for _ in range(2)
            ]
            return halves[0][0] + halves[1][0], halves[0][1] + halves[1][1]

        balance_big, balance_empty = compare(
            "balance 1M",
            lambda i, n: ("GET", f"/v1/orgs/{history}/balance", None),
            "balance empty",
            lambda i, n: ("GET", f"/v1/orgs/{empty}/balance", None),
        )
        page_deep, page_first = compare(
            "page 1000 deep",
            lambda i, n: ("GET", f"/v1/orgs/{history}/transactions?cursor={deep_cursor}", None),
            "first page",
            lambda i, n: ("GET", f"/v1/orgs/{history}/transactions", None),
        )

    ceiling_spread = ceiling.run(url, spread, revenue, clients=CLIENTS, seconds=SECONDS)
    print(f"ceiling spread: {ceiling_spread.throughput:.0f}/s", flush=True)
    ceiling_hot = ceiling.run(url, [hot], revenue, clients=CLIENTS, seconds=SECONDS)
    print(f"ceiling hot: {ceiling_hot.throughput:.0f}/s", flush=True)

    with app.app_context():
        findings = run_checks()
        db.engine.dispose()

    def row(name, result, unit="req/s", ratio="", target=""):
        rows.append(
            f"| {name} | {result.throughput:,.0f} {unit} | {result.percentile(0.5):.1f} | "
            f"{result.percentile(0.99):.1f} | {ratio} | {target} |"
        )

    def check(value, ok):
        return f"{value:.2f} {'✓' if ok else '✗'}"

    spread_ratio = single_spread.throughput / ceiling_spread.throughput
    hot_ratio = single_hot.throughput / ceiling_hot.throughput
    batch_ratio = batch_spread.throughput / single_spread.throughput
    batch_hot_ratio = batch_hot.throughput / single_hot.throughput
    balance_ratio = balance_big.percentile(0.5) / balance_empty.percentile(0.5)
    page_ratio = page_deep.percentile(0.5) / page_first.percentile(0.5)
    outbox_ratio = outbox_on.throughput / outbox_off.throughput
    row(
        "deductions, 1,000 orgs: service",
        single_spread,
        "ded/s",
        check(spread_ratio, spread_ratio >= 0.2),
        "≥ 0.20 of ceiling",
    )
    row("deductions, 1,000 orgs: ceiling (SQL only)", ceiling_spread, "ded/s")
    row(
        "deductions, hot org: service",
        single_hot,
        "ded/s",
        check(hot_ratio, hot_ratio >= 0.3),
        "≥ 0.30 of ceiling",
    )
    row("deductions, hot org: ceiling (SQL only)", ceiling_hot, "ded/s")
    for name, result in (
        ("holds, 1,000 orgs: create", hold_create),
        ("holds, 1,000 orgs: capture", hold_capture),
        ("holds, 1,000 orgs: void", hold_void),
    ):
        ratio = result.throughput / single_spread.throughput
        row(name, result, "req/s", f"{ratio:.2f}", "vs single deductions, 1,000 orgs")
    row(
        "deductions, 1,000 orgs, outbox on (side by side)",
        outbox_on,
        "ded/s",
        check(outbox_ratio, outbox_ratio >= 0.85),
        "≥ 0.85 of outbox off",
    )
    row("deductions, 1,000 orgs, outbox off (side by side)", outbox_off, "ded/s")
    row(
        f"batch of {BATCH}, 1,000 orgs",
        batch_spread,
        "ded/s",
        check(batch_ratio, batch_ratio >= 5),
        "≥ 5× single spread",
    )
    row(
        f"batch of {BATCH}, hot org",
        batch_hot,
        "ded/s",
        check(batch_hot_ratio, batch_hot_ratio >= 5),
        "≥ 5× single hot",
    )
    row(
        "balance, org with 1,000,000 postings",
        balance_big,
        "req/s",
        check(balance_ratio, balance_ratio <= 1.2),
        "p50 ≤ 1.2× empty",
    )
    row("balance, org with no postings", balance_empty)
    row(
        "transactions, page 1,000 deep",
        page_deep,
        "req/s",
        check(page_ratio, page_ratio <= 1.5),
        "p50 ≤ 1.5× first page",
    )
    row("transactions, first page", page_first)
    p99 = max(single_spread.percentile(0.99), single_hot.percentile(0.99))
    errors = sum(
        count
        for result in (
            single_spread,
            single_hot,
            batch_spread,
            batch_hot,
            hold_create,
            hold_capture,
            hold_void,
            outbox_on,
            outbox_off,
        )
        for status, count in result.statuses.items()
        if status >= 500
    )
    table = "\n".join(
        [
            f"# Bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"{CLIENTS} clients, {SECONDS:.0f}s per row (reads {SECONDS / 2:.0f}s), gunicorn "
            f"with gunicorn.conf.py, {platform.machine()} with "
            f"{_cores()} cores; service and load share the machine.",
            "",
            "| scenario | throughput | p50 ms | p99 ms | ratio | target |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"p99 of single deductions at {CLIENTS} clients: {p99:.1f} ms "
            f"({'✓' if p99 <= 50 else '✗'} target ≤ 50 ms). 5xx answers: {errors}. "
            f"`ledger verify` after the run: {'ok' if not findings else findings[:3]}.",
            "",
        ]
    )
    print(table)
    (RESULTS / "latest.md").write_text(table)


def settle(url: str) -> None:
    """Vacuum and analyze the database the service runs on."""
    with psycopg.connect(ceiling.conninfo(url), autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def _cursor_at_depth(org_id, *, pages: int, limit: int) -> str:
    """The cursor a client holds after paging `pages` pages of `limit` back."""
    entry_id = db.session.execute(
        text(
            "SELECT id FROM journal_entries WHERE org_id = :org_id "
            "ORDER BY id DESC OFFSET :skip LIMIT 1"
        ),
        {"org_id": org_id, "skip": pages * limit - 1},
    ).scalar_one()
    return encode_cursor(entry_id)


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
