"""A local HTTP receiver for our outgoing webhooks: the platform's side.

Each endpoint is a path (`receiver.url("a")`); once its `whsec_` secret is registered
(`receiver.trust(path, secret)`), every request is checked with the `standardwebhooks`
package, as a platform would. Tests script answers per path (`answer("a", 500, 500)`:
two 500s, then 200s) and can hold requests open (`hold()` ... `release()`).

`tests/conftest.py` loads this module as a plugin: take the `receiver` fixture.
"""

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import standardwebhooks


@dataclass(frozen=True)
class Received:
    path: str
    webhook_id: str
    body: Any
    verified: bool


class Receiver:
    def __init__(self):
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}
        self._answers: dict[str, deque[int]] = {}
        self._received: list[Received] = []
        self.arrived = 0  # requests that reached the receiver, answered or held
        self._open = threading.Event()
        self._open.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base = f"http://{host}:{port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def trust(self, name: str, secret: str) -> None:
        with self._lock:
            self._secrets[f"/{name}"] = secret

    def answer(self, name: str, *statuses: int) -> None:
        """Answer these statuses to the next requests on this path, then 200."""
        with self._lock:
            self._answers[f"/{name}"] = deque(statuses)

    def hold(self) -> None:
        """Keep requests waiting (unanswered) until `release()`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def received(self, name: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if name is None or r.path == f"/{name}"]

    def ids(self, name: str | None = None) -> list[str]:
        return [r.webhook_id for r in self.received(name)]

    def reset(self) -> None:
        self.release()
        with self._lock:
            self._secrets.clear()
            self._answers.clear()
            self._received.clear()
            self.arrived = 0

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            secret = self._secrets.get(path)
        try:
            if secret is None:
                raise standardwebhooks.WebhookVerificationError("no secret for this path")
            payload = standardwebhooks.Webhook(secret).verify(body, headers)
            verified = True
        except standardwebhooks.WebhookVerificationError:
            payload, verified = json.loads(body or b"null"), False
        with self._lock:
            self._received.append(Received(path, headers.get("webhook-id", ""), payload, verified))
            answers = self._answers.get(path)
            return answers.popleft() if answers else 200


def _handler_class(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver._lock:
                receiver.arrived += 1
            receiver._open.wait(timeout=60)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver._receive(self.path, headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture(scope="session")
def receiver_server():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def receiver(receiver_server):
    """The receiver, emptied."""
    receiver_server.reset()
    yield receiver_server
    receiver_server.release()
