"""`make profile`: where a deduction request spends its time, in one process.

Creates a database, seeds organisations with credit, then sends single deductions
(spread over the organisations) and batches of 100 through the app's WSGI stack
(authentication, parsing, the service, the database, rendering, logging; everything but
gunicorn's socket handling) under pyinstrument, which samples wall-clock time, so
database round trips show as time spent waiting in psycopg. Prints the top frames and
writes them to bench/results/profile.txt.
"""

import sys
import time
from collections import defaultdict
from pathlib import Path

from pyinstrument import Profiler

from bench import seed
from config import Config
from ledger.app import create_app
from ledger.cli import mint_token
from tests.database import create_database, drop_database
from tests.server import migrate

ORGS = 50
REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
BATCHES = REQUESTS // 20
RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    url = create_database("ledger_profile")
    try:
        report = profile(url)
    finally:
        drop_database(url)
    print(report)
    (RESULTS / "profile.txt").write_text(report)


def profile(url: str) -> str:
    migrate(url)

    class ProfileConfig(Config):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(ProfileConfig)
    with app.app_context():
        orgs = [seed.funded_org(10**9) for _ in range(ORGS)]
        token = mint_token(app.config, sub="profile", roles=["service"], ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()

    def deduct(n: int) -> None:
        body = {"order_id": f"p-{n}-{time.monotonic_ns()}", "amount": 1}
        client.post(f"/v1/orgs/{orgs[n % ORGS]}/deductions", json=body, headers=headers)

    def batch(n: int) -> None:
        items = [{"order_id": f"b-{n}-{k}-{time.monotonic_ns()}", "amount": 1} for k in range(100)]
        body = {"deductions": items}
        client.post(f"/v1/orgs/{orgs[n % ORGS]}/deductions/batch", json=body, headers=headers)

    for n in range(ORGS):  # warm every cache (currencies, platform accounts, plans)
        deduct(n)
        batch(n)
    sections = []
    for name, request, count in (
        ("single deduction", deduct, REQUESTS),
        ("batch of 100", batch, BATCHES),
    ):
        profiler = Profiler(interval=0.0005)
        started, cpu = time.perf_counter(), time.process_time()
        with profiler:
            for n in range(count):
                request(n)
        per_request = (time.perf_counter() - started) / count * 1000
        cpu_per_request = (time.process_time() - cpu) / count * 1000
        sections.append(
            f"## {name}: {per_request:.2f} ms per request, {cpu_per_request:.2f} ms of it "
            "CPU in this process (1 client, profiler on)\n"
        )
        sections.append(top_frames(profiler))
    with app.app_context():
        from ledger.extensions import db

        db.engine.dispose()
    return "\n".join(sections)


def top_frames(profiler: Profiler, limit: int = 30) -> str:
    """The frames with the most time under them (inclusive), and the most time in them
    (self), as shares of the whole; one line per function."""
    session = profiler.last_session
    if session is None:
        return "no samples\n"
    total = session.duration
    inclusive: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)

    def walk(frame, seen: frozenset) -> None:
        key = f"{frame.function} ({_short(frame.file_path)}:{frame.line_no})"
        if not frame.function.startswith("["):  # pyinstrument's own [self], [await]
            if key not in seen:  # recursion counts once
                inclusive[key] += frame.time
            own[key] += frame.total_self_time
        for child in frame.children:
            walk(child, seen | {key})

    root = session.root_frame()
    if root is not None:
        walk(root, frozenset())
    lines = ["inclusive (time under the frame):"]
    lines += _ranked(inclusive, total, limit)
    lines += ["", "self (time in the frame itself):"]
    lines += _ranked(own, total, limit)
    return "\n".join(lines) + "\n"


def _ranked(times: dict[str, float], total: float, limit: int) -> list[str]:
    ranked = sorted(times.items(), key=lambda kv: kv[1], reverse=True)[:limit]
    return [f"  {seconds / total:6.1%}  {name}" for name, seconds in ranked]


def _short(path: str | None) -> str:
    if not path:
        return "?"
    for marker in ("site-packages/", "/ledger/", "/lib/python"):
        if marker in path:
            return (
                path.split(marker, 1)[1]
                if marker != "/ledger/"
                else "ledger/" + path.split(marker, 1)[1]
            )
    return Path(path).name


if __name__ == "__main__":
    main()
