"""`make chaos`: 16 clients deduct, reverse and grant across 50 organisations against
gunicorn while workers are SIGKILLed and the app's database backends terminated.

Clients retry every failed call (a connection error, a 5xx) with the same order_id and
body until it is answered. At the end every acknowledged operation must exist exactly
once, nothing else may be written, every balance must equal what the acknowledged
operations imply, and `flask ledger verify` must pass.
"""

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import text

from bench import seed
from bench.ceiling import conninfo
from config import Config
from ledger.app import create_app
from ledger.cli import mint_token
from ledger.extensions import db
from tests.database import create_database, drop_database
from tests.server import ROOT, Gunicorn, migrate

CLIENTS = 16
ORGS = 50
START_CREDIT = 20_000


@dataclass
class Operation:
    kind: str  # deduction, reversal, grant
    org_id: str
    path: str
    body: dict
    status: int | None = None  # None until acknowledged
    answer: dict = field(default_factory=dict)


@dataclass
class Report:
    operations: int = 0
    retries: int = 0
    worker_kills: int = 0
    backend_kills: int = 0
    statuses: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"operations={self.operations} retries={self.retries} "
            f"worker_kills={self.worker_kills} backend_kills={self.backend_kills} "
            f"statuses={dict(sorted(self.statuses.items()))} violations={len(self.violations)}"
        )


class Client:
    """One caller with its own connection; retries an operation until it is answered."""

    def __init__(self, base: str, headers: dict[str, dict], report: Report):
        self.address = urlsplit(base)
        self.headers = headers
        self.report = report
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def send(self, op: Operation, give_up_at: float) -> None:
        while time.monotonic() < give_up_at:
            try:
                conn = self.conn or http.client.HTTPConnection(self.address.netloc, timeout=15)
                self.conn = conn
                conn.request(
                    "POST", op.path, body=json.dumps(op.body), headers=self.headers[op.kind]
                )
                response = conn.getresponse()
                body = response.read()
                if response.status < 500:
                    op.status, op.answer = response.status, json.loads(body)
                    return
            except (OSError, http.client.HTTPException):
                self.close()
                self.conn = None
            self.report.retries += 1
            time.sleep(0.05)


def run(seconds: float = 60, *, faults_every: float = 5.0) -> Report:
    url = create_database("ledger_chaos")
    try:
        return _run(url, seconds, faults_every)
    finally:
        drop_database(url)


def _run(url: str, seconds: float, faults_every: float) -> Report:
    migrate(url)

    class ChaosConfig(Config):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(ChaosConfig)
    with app.app_context():
        orgs = [str(seed.funded_org(START_CREDIT)) for _ in range(ORGS)]
        service = mint_token(app.config, sub="chaos", roles=["service"], ttl_seconds=3600)
        operator = mint_token(app.config, sub="chaos-op", roles=["operator"], ttl_seconds=3600)
    json_type = {"Content-Type": "application/json"}
    headers = {
        "deduction": {"Authorization": f"Bearer {service}", **json_type},
        "reversal": {"Authorization": f"Bearer {service}", **json_type},
        "grant": {"Authorization": f"Bearer {operator}", **json_type},
    }
    report = Report()
    operations: list[Operation] = []
    log_path = ROOT / "bench" / "results" / "chaos-gunicorn.log.tmp"
    with Gunicorn(url, log_path=log_path) as server:
        stop_at = time.monotonic() + seconds
        give_up_at = stop_at + 120
        faults = threading.Thread(
            target=_inject_faults, args=(server, url, stop_at, faults_every, report)
        )
        faults.start()

        def client(i: int) -> None:
            rng = random.Random(i)  # noqa: S311 - reproducible load, not secrets
            caller = Client(server.base, headers, report)
            mine: list[Operation] = []
            n = 0
            while time.monotonic() < stop_at:
                op = _next_operation(rng, orgs, mine, f"c{i}-{n}")
                caller.send(op, give_up_at)
                mine.append(op)
                n += 1
            caller.close()
            operations.extend(mine)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        faults.join()

    report.operations = len(operations)
    report.statuses = Counter(op.status for op in operations)
    report.violations = _check(app, url, orgs, operations)
    with app.app_context():
        db.engine.dispose()
    return report


def _next_operation(rng: random.Random, orgs, mine: list[Operation], order_id: str) -> Operation:
    deductions = [op for op in mine if op.kind == "deduction" and op.status == 201]
    roll = rng.random()
    if roll < 0.2 and deductions:
        target = rng.choice(deductions)
        return Operation(
            "reversal",
            target.org_id,
            f"/v1/orgs/{target.org_id}/deductions/{target.answer['id']}/reversals",
            {"order_id": order_id, "amount": rng.randint(1, target.body["amount"])},
        )
    org_id = rng.choice(orgs)
    if roll < 0.35:
        return Operation(
            "grant",
            org_id,
            f"/v1/admin/orgs/{org_id}/grants",
            {"order_id": order_id, "amount": rng.randint(100, 2000), "reason": "chaos"},
        )
    return Operation(
        "deduction",
        org_id,
        f"/v1/orgs/{org_id}/deductions",
        {"order_id": order_id, "amount": rng.randint(1, 1500)},
    )


def _inject_faults(server: Gunicorn, url: str, stop_at: float, every: float, report: Report):
    """Alternate: SIGKILL a worker (the master starts another), terminate the app's backends."""
    rng = random.Random(0)  # noqa: S311
    kill_worker = True
    while time.monotonic() + every < stop_at:
        time.sleep(every)
        if kill_worker:
            os.kill(rng.choice(server.worker_pids()), signal.SIGKILL)
            report.worker_kills += 1
        else:
            with psycopg.connect(conninfo(url), autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            report.backend_kills += 1
        kill_worker = not kill_worker


def _check(app, url: str, orgs: list[str], operations: list[Operation]) -> list[str]:
    violations = [f"never answered: {op.kind} {op.body}" for op in operations if op.status is None]
    violations += [
        f"{op.kind} {op.body['order_id']} answered {op.status} {op.answer}"
        for op in operations
        if op.status not in (None, 201, 402, 422)
        or (op.status == 422 and op.answer["error"]["code"] != "reversal_exceeds_deduction")
    ]
    expected = dict.fromkeys(orgs, START_CREDIT)
    acknowledged = {}
    for op in operations:
        if op.status == 201:
            sign = -1 if op.kind == "deduction" else 1
            expected[op.org_id] += sign * op.body["amount"]
            entry_id = op.answer["entry_id"] if op.kind == "grant" else op.answer["id"]
            acknowledged[(op.org_id, op.kind, op.body["order_id"])] = int(entry_id)
    with app.app_context():
        written = db.session.execute(
            text(
                "SELECT org_id::text, kind, order_id, array_agg(id) AS ids FROM journal_entries "
                "WHERE order_id <> 'seed' GROUP BY org_id, kind, order_id"
            )
        ).all()
        balances: dict[str, int] = dict(
            db.session.execute(
                text("SELECT org_id::text, balance FROM ledger_accounts WHERE kind = 'available'")
            ).all()
        )
    seen = set()
    for row in written:
        key = (row.org_id, row.kind, row.order_id)
        seen.add(key)
        if key not in acknowledged:
            violations.append(f"written but not acknowledged: {key}")
        elif row.ids != [acknowledged[key]]:
            violations.append(f"{key}: entries {row.ids}, acknowledged {acknowledged[key]}")
    violations += [f"acknowledged but missing: {key}" for key in acknowledged.keys() - seen]
    violations += [
        f"organisation {org}: balance {balances[org]}, operations imply {amount}"
        for org, amount in expected.items()
        if balances[org] != amount
    ]
    verify = subprocess.run(  # noqa: S603 - our own CLI
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "ledger", "verify"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if verify.returncode != 0:
        violations.append(f"flask ledger verify failed: {verify.stdout[-2000:]}")
    return violations


if __name__ == "__main__":
    result = run(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
    print(result.summary())
    for violation in result.violations[:50]:
        print("VIOLATION", violation)
    sys.exit(1 if result.violations else 0)
