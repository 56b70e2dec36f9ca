"""`flask ledger deliver-events` as a real process: SIGKILLed mid-delivery, nothing is lost."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from ledger import clock
from ledger.extensions import db
from tests.server import Gunicorn

ROOT = Path(__file__).resolve().parents[2]


def start_worker(database_url: str, *args: str) -> subprocess.Popen:
    flask = Path(sys.executable).parent / "flask"
    return subprocess.Popen(  # noqa: S603 - our own command line
        [str(flask), "--app", "wsgi", "ledger", "deliver-events", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_until(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def queue_states(app, endpoint_id) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(
            text("SELECT state, attempts FROM event_deliveries WHERE endpoint_id = :id"),
            {"id": endpoint_id},
        ).all()
        db.session.rollback()
    return [tuple(r) for r in rows]


def test_a_worker_killed_mid_delivery_loses_nothing(
    app, database_url, caller, org, receiver, endpoints, emit, deliver
):
    endpoint = endpoints.add("a", org=org)
    for _ in range(30):
        emit(org, "lot.expired")
    receiver.hold()  # the worker's first sends stay in flight

    worker = start_worker(database_url)
    try:
        wait_until(lambda: receiver.arrived >= 1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    claimed = [s for s in queue_states(app, endpoint["id"]) if s == ("pending", 1)]
    assert claimed  # it died holding claimed, unrecorded deliveries
    receiver.release()

    # Another worker, once the dead one's claims have lapsed.
    clock.pin(clock.now() + timedelta(minutes=2))
    deliver()

    r = caller.client.get(f"/v1/orgs/{org.id}/events?limit=100", headers=caller.service)
    event_ids = {e["id"] for e in r.json["data"]}
    assert len(event_ids) == 30
    assert set(receiver.ids("a")) == event_ids
    assert all(r.verified for r in receiver.received("a"))
    assert {state for state, _ in queue_states(app, endpoint["id"])} == {"delivered"}


def test_once_drains_what_is_due_and_exits(database_url, org, receiver, endpoints, emit):
    endpoints.add("a", org=org)
    for _ in range(3):
        emit(org, "topup.succeeded")

    worker = start_worker(database_url, "--once")
    output, _ = worker.communicate(timeout=60)

    assert worker.returncode == 0, output
    assert b"attempted 3, delivered 3" in output
    assert len(set(receiver.ids("a"))) == 3


def test_a_stopped_worker_finishes_its_batch_and_exits(
    database_url, org, receiver, endpoints, emit
):
    endpoints.add("a", org=org)
    emit(org, "topup.succeeded")
    receiver.hold()
    worker = start_worker(database_url)
    try:
        wait_until(lambda: receiver.arrived >= 1)
        worker.send_signal(signal.SIGTERM)
        receiver.release()
        output, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert b"attempted 1, delivered 1" in output


def test_gunicorn_of_make_run_starts_a_delivery_worker_and_stops_it(
    database_url, org, receiver, endpoints, emit
):
    endpoints.add("a", org=org)
    emit(org, "topup.succeeded")

    env = {"DELIVER_EVENTS_WITH_GUNICORN": "1"}  # as `make run` sets it
    with Gunicorn(database_url, workers=1, env=env) as server:
        wait_until(lambda: len(receiver.ids("a")) == 1)
        beside = [
            pid
            for pid in server.worker_pids()
            if b"deliver-events" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(beside) == 1

    assert not Path(f"/proc/{beside[0]}").exists()
    assert all(r.verified for r in receiver.received("a"))
