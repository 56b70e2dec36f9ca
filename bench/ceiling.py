"""The ceiling: what PostgreSQL itself does with a deduction, driven by pgbench (C, no
HTTP, no Python) with bench/ceiling.sql at the same concurrency on the same database.
Latencies come from pgbench's per-transaction log (`-l`), so the ceiling has a p50 and
a p99 of its own.

The organisations to draw from are listed in a bench-only table, `bench_orgs` (n, org_id):
spread draws n from 1..1000, hot from 0..0.
"""

import shutil
import subprocess
import tempfile
import time
import uuid
import warnings
from collections import Counter
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.load import Result

SCRIPT = Path(__file__).resolve().parent / "ceiling.sql"


def conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def list_orgs(database_url: str, spread: list[uuid.UUID], hot: uuid.UUID) -> None:
    """bench_orgs: the hot organisation as n = 0, the spread ones as 1..len(spread)."""
    rows = [(0, hot), *((n, org) for n, org in enumerate(spread, start=1))]
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_orgs (n int PRIMARY KEY, org_id uuid NOT NULL)")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_orgs VALUES (%s, %s)", rows)


def pgbench() -> str:
    """pgbench of the embedded server's build when there is one, else the system's."""
    try:
        with warnings.catch_warnings():  # platformdirs warns without XDG_RUNTIME_DIR
            warnings.simplefilter("ignore")
            import pgserver  # noqa: PLC0415 - only to find its binaries

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("pgbench")
    if not found:
        raise RuntimeError("pgbench not found (install postgresql-client)")
    return found


def run(
    database_url: str, *, hot: bool, revenue_id: int, orgs: int, clients: int, seconds: float
) -> Result:
    """Deduct 1 in a closed loop from `clients` connections for `seconds`."""
    url = make_url(database_url)
    lo, hi = (0, 0) if hot else (1, orgs)
    with tempfile.TemporaryDirectory(prefix="ceiling-") as logs:
        command = [
            pgbench(),
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            "--jobs=2",
            f"--time={max(1, round(seconds))}",
            f"--file={SCRIPT}",
            f"--define=lo={lo}",
            f"--define=hi={hi}",
            f"--define=revenue={revenue_id}",
            "--log",
            f"--log-prefix={logs}/tx",
            f"--username={url.username or 'postgres'}",
        ]
        host = url.query.get("host") or url.host
        if host:
            command.append(f"--host={host}")
        if url.port:
            command.append(f"--port={url.port}")
        command.append(url.database or "postgres")
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        elapsed = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed: {done.stderr[-2000:]}")
        latencies = [
            int(line.split()[2]) / 1000
            for log in Path(logs).glob("tx*")
            for line in log.read_text().splitlines()
            if line.split()[2].isdigit()
        ]
    # Time to connect is not in the loop; the loop ran for `seconds`.
    duration = min(elapsed, max(1, round(seconds)))
    return Result(len(latencies), duration, latencies, Counter({201: len(latencies)}))
