"""The edges only real gunicorn has: its own 414 and 431 answers in the JSON envelope,
bodies over MAX_BODY_BYTES refused before they are read (declared or chunked), and
clients that go quiet mid-request cannot starve the health check."""

import json
import logging
import socket
import urllib.request

import pytest

from config import TestConfig
from ledger.serving import LedgerWorker
from tests.helpers import new_order_id
from tests.server import Gunicorn


@pytest.fixture(scope="module")
def server(database_url):
    env = {"CLIENT_READ_TIMEOUT_SECONDS": "2", "JWT_SECRET": TestConfig.JWT_SECRET}
    with Gunicorn(database_url, workers=1, env=env) as running:
        yield running


def exchange(server, raw: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(raw)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        length = int(headers.get("Content-Length", 0))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split(" ")[1]), headers, body


def assert_envelope(status, headers, body, expected_status, code):
    assert status == expected_status
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Request-Id"]
    assert json.loads(body)["error"]["code"] == code


def test_gunicorns_414_and_431_are_json(server):
    long_line = b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_envelope(*exchange(server, long_line), 414, "uri_too_long")
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(200))
    too_many_headers = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
    assert_envelope(*exchange(server, too_many_headers), 431, "request_header_fields_too_large")


def test_a_declared_oversize_body_is_refused_unread(server):
    # Nothing follows the headers: an answer proves the body was never waited for.
    raw = (
        b"POST /v1/webhooks/stripe HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    )
    assert_envelope(*exchange(server, raw), 413, "payload_too_large")


def test_a_chunked_oversize_body_is_refused(server):
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(40)) + b"0\r\n\r\n"
    raw = (
        b"POST /v1/webhooks/stripe HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    )
    assert_envelope(*exchange(server, raw), 413, "payload_too_large")


def test_quiet_clients_do_not_starve_the_health_check(server):
    quiet = []
    try:
        for _ in range(12):  # more than the worker's 4 threads
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Partial: ")
            quiet.append(sock)
        with urllib.request.urlopen(f"{server.base}/healthz", timeout=60) as r:  # noqa: S310
            assert r.status == 200
    finally:
        for sock in quiet:
            sock.close()


def test_a_small_chunked_body_reaches_the_app_whole(server, caller, org):
    caller.grant(org, 1_000)
    body = json.dumps({"order_id": new_order_id(), "amount": 100}).encode()
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:half], body[half:]))
    raw = (
        (
            f"POST /v1/orgs/{org.id}/deductions HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {caller.service['Authorization']}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    status, _, answer = exchange(server, raw)
    assert status == 201, answer
    assert caller.balance(org)["available"] == 900


def test_a_crash_outside_flask_is_a_json_500():
    """gunicorn's own 500 (an error before or after the app): the real handle_error path,
    on a socket pair instead of a client connection."""
    worker = LedgerWorker.__new__(LedgerWorker)  # only its error handling is exercised
    worker.log = logging.getLogger("tests.gunicorn")
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(None, ours, ("127.0.0.1", 1), RuntimeError("boom"))
        ours.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := theirs.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert_envelope(int(lines[0].split(" ")[1]), headers, body, 500, "internal_error")
