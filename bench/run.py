"""`make bench`: the service under gunicorn against the ceiling of its own SQL.

Creates a database (on DATABASE_URL's server, or the embedded one), seeds it, starts
gunicorn with gunicorn.conf.py, loads it over loopback with wrk (bench/load.py) from 16
connections, then drives the deduction's SQL straight over psycopg at the same concurrency
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

        def measure(name, scenario, per_request=1, seconds=SECONDS):
            result = load.run(
                server.base,
                headers,
                scenario,
                clients=CLIENTS,
                seconds=seconds,
                per_request=per_request,
            )
            print(f"{name}: {result.throughput:.0f}/s {dict(result.statuses)}", flush=True)
            return result

        def deduction(orgs):
            return load.Scenario(
                "POST",
                [f"/v1/orgs/{org}/deductions" for org in orgs],
                {"order_id": "d-{id}", "amount": 1},
            )

        def batch(orgs):
            return load.Scenario(
                "POST",
                [f"/v1/orgs/{org}/deductions/batch" for org in orgs],
                {"order_id": "b-{id}", "amount": 1},
                batch=BATCH,
            )

        # Long enough for every worker to have met most organisations: each process caches
        # what it looks up once (an organisation's currency, the platform accounts), and
        # the bench measures the steady state, not a worker's first seconds.
        measure("warm-up", deduction(spread), seconds=10)
        # The service and its ceiling in alternating halves, so that what else this
        # machine does meanwhile hits both alike.
        ceiling.list_orgs(url, spread, hot)

        def against_ceiling(name, request, *, hot_org, per_request=1):
            halves = [
                (
                    measure(name, request, per_request=per_request, seconds=SECONDS / 2),
                    ceiling.run(
                        url,
                        hot=hot_org,
                        revenue_id=revenue,
                        orgs=SPREAD_ORGS,
                        clients=CLIENTS,
                        seconds=SECONDS / 2,
                    ),
                )
                for _ in range(2)
            ]
            service, pgbench = halves[0][0] + halves[1][0], halves[0][1] + halves[1][1]
            print(f"ceiling {name}: {pgbench.throughput:.0f}/s", flush=True)
            return service, pgbench

        single_spread, ceiling_spread = against_ceiling(
            "single spread", deduction(spread), hot_org=False
        )
        single_hot, ceiling_hot = against_ceiling("single hot", deduction([hot]), hot_org=True)
        batch_spread, ceiling_batch_spread = against_ceiling(
            "batch spread", batch(spread), hot_org=False, per_request=BATCH
        )
        batch_hot, ceiling_batch_hot = against_ceiling(
            "batch hot", batch([hot]), hot_org=True, per_request=BATCH
        )
        hold_create = measure("hold create spread", holds.create(spread))
        hold_capture = measure("hold capture spread", holds.capture(seeded_holds))
        hold_void = measure("hold void spread", holds.void(seeded_holds))
        # The same deductions with the outbox at work: every organisation has a
        # low-balance threshold (checked under the wallet lock by every deduction) and an
        # endpoint takes every event, against organisations without a threshold. Side by
        # side (half the clients each), so the other tenants of this machine hit both
        # alike, each set warmed up first as the spread one was (cold per-worker caches
        # made this row swing between 0.76 and 1.64). No delivery worker runs meanwhile:
        # it is its own process.
        outbox = {"outbox off": deduction(unwatched), "outbox on": deduction(watched)}
        load.side_by_side(server.base, headers, outbox, clients=CLIENTS, seconds=10)
        compared = load.side_by_side(
            server.base, headers, outbox, clients=CLIENTS, seconds=SECONDS * 2
        )
        outbox_off, outbox_on = compared["outbox off"], compared["outbox on"]
        for name, result in compared.items():
            print(f"{name}: {result.throughput:.0f}/s {dict(result.statuses)}", flush=True)
        # What autovacuum does after the write phases, done now rather than in the middle
        # of a read measurement on this 2-core machine.
        settle(url)

        def compare(name_a, scenario_a, name_b, scenario_b):
            """Two read scenarios in alternating halves, so drift hits both alike."""
            halves = [
                (
                    measure(name_a, scenario_a, seconds=SECONDS / 2),
                    measure(name_b, scenario_b, seconds=SECONDS / 2),
                )
                for _ in range(2)
            ]
            return halves[0][0] + halves[1][0], halves[0][1] + halves[1][1]

        balance_big, balance_empty = compare(
            "balance 1M",
            load.Scenario("GET", [f"/v1/orgs/{history}/balance"]),
            "balance empty",
            load.Scenario("GET", [f"/v1/orgs/{empty}/balance"]),
        )
        page_deep, page_first = compare(
            "page 1000 deep",
            load.Scenario("GET", [f"/v1/orgs/{history}/transactions?cursor={deep_cursor}"]),
            "first page",
            load.Scenario("GET", [f"/v1/orgs/{history}/transactions"]),
        )

    with app.app_context():
        findings = run_checks()
        db.engine.dispose()

    def row(name, result, against_name, against, *, ratio, target, ok, p99_target=None):
        """One line: a measure, what it is compared with, their ratio and the target."""
        p99_ratio = result.percentile(0.99) / against.percentile(0.99)
        p99 = ""
        if p99_target is not None:
            p99 = f"{p99_ratio:.1f}× {'✓' if p99_ratio <= p99_target else '✗'}"
        mark = "" if ok is None else (" ✓" if ok else " ✗")
        rows.append(
            f"| {name} | {result.throughput:,.0f} | {result.percentile(0.5):.1f} | "
            f"{result.percentile(0.99):.1f} | {against_name} | {against.throughput:,.0f} | "
            f"{against.percentile(0.5):.1f} | {against.percentile(0.99):.1f} | "
            f"{ratio:.2f}{mark} | {p99} | {target} |"
        )

    spread_ratio = single_spread.throughput / ceiling_spread.throughput
    hot_ratio = single_hot.throughput / ceiling_hot.throughput
    batch_ratio = batch_spread.throughput / ceiling_batch_spread.throughput
    batch_hot_ratio = batch_hot.throughput / ceiling_batch_hot.throughput
    balance_ratio = balance_big.percentile(0.5) / balance_empty.percentile(0.5)
    page_ratio = page_deep.percentile(0.5) / page_first.percentile(0.5)
    outbox_ratio = outbox_on.throughput / outbox_off.throughput
    row(
        "deductions, 1,000 orgs",
        single_spread,
        "ceiling, 1,000 orgs",
        ceiling_spread,
        ratio=spread_ratio,
        ok=spread_ratio >= 0.40,
        p99_target=3,
        target="≥ 0.40 of ceiling; p99 ≤ 3×",
    )
    row(
        "deductions, one hot org",
        single_hot,
        "ceiling, hot org",
        ceiling_hot,
        ratio=hot_ratio,
        ok=hot_ratio >= 0.45,
        p99_target=3,
        target="≥ 0.45 of ceiling; p99 ≤ 3×",
    )
    for name, result in (
        ("holds, 1,000 orgs: create", hold_create),
        ("holds, 1,000 orgs: capture", hold_capture),
        ("holds, 1,000 orgs: void", hold_void),
    ):
        ratio = result.throughput / single_spread.throughput
        row(
            name,
            result,
            "deductions, 1,000 orgs",
            single_spread,
            ratio=ratio,
            ok=None,
            target="(for comparison)",
        )
    row(
        "deductions, 1,000 orgs, outbox on (side by side)",
        outbox_on,
        "outbox off (side by side)",
        outbox_off,
        ratio=outbox_ratio,
        ok=outbox_ratio >= 0.85,
        target="≥ 0.85 of outbox off",
    )
    row(
        f"batch of {BATCH}, 1,000 orgs (items/s)",
        batch_spread,
        "ceiling, 1,000 orgs",
        ceiling_batch_spread,
        ratio=batch_ratio,
        ok=batch_ratio >= 8,
        target="≥ 8× single ceiling",
    )
    row(
        f"batch of {BATCH}, hot org (items/s)",
        batch_hot,
        "ceiling, hot org",
        ceiling_batch_hot,
        ratio=batch_hot_ratio,
        ok=batch_hot_ratio >= 8,
        target="≥ 8× single ceiling",
    )
    row(
        "balance, org with 1,000,000 postings",
        balance_big,
        "balance, no postings",
        balance_empty,
        ratio=balance_ratio,
        ok=balance_ratio <= 1.2,
        target="p50 ≤ 1.2×",
    )
    row(
        "transactions, page 1,000 deep",
        page_deep,
        "first page",
        page_first,
        ratio=page_ratio,
        ok=page_ratio <= 1.5,
        target="p50 ≤ 1.5×",
    )
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
    load_average = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    table = "\n".join(
        [
            f"# Bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"{CLIENTS} clients, {SECONDS:.0f}s per row (reads too), gunicorn "
            f"with gunicorn.conf.py, {platform.machine()} with {_cores()} cores; service, load "
            f"and database share the machine (load average {load_average} at the end). "
            "The ceiling is pgbench running the deduction's SQL (bench/ceiling.sql) at the "
            "same concurrency on the same database, in alternating halves with the row it is "
            "compared with (each row has its own); its p50/p99 come from pgbench's "
            "per-transaction log. Throughput is per second (deductions, items or requests); "
            "latencies in ms; the ratio is throughput against the compared row, or p50 for "
            "reads.",
            "",
            "| scenario | /s | p50 | p99 | against | /s | p50 | p99 | ratio | p99 ratio | target |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"5xx answers: {errors}. "
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
