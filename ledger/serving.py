"""The gunicorn worker: gthread, with gunicorn's own errors in the contract's envelope
and a read timeout on client sockets.

gunicorn answers some requests before the app sees them (a request line over its limit
is 414, too many or too large headers 431, a crash outside Flask 500) with an HTML page.
Here gunicorn still decides the status and logs as usual; only the page it writes is
replaced by `{"error": {...}}` with an `X-Request-Id`.

A client that sends part of a request and then goes quiet holds a worker thread while
gunicorn parses. SO_RCVTIMEO bounds each read, so a silent client frees its thread
after CLIENT_READ_TIMEOUT_SECONDS. A client that trickles bytes can still hold one; a
buffering proxy in front (see the README's production checklist) takes those.
"""

import json
import socket
import struct

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from config import Config
from ledger.api.request_id import request_id_from

CODES = {400: "bad_request", 414: "uri_too_long", 431: "request_header_fields_too_large"}


class _Page:
    """Stands in for the client socket while gunicorn writes its HTML error page."""

    def __init__(self) -> None:
        self.written = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.written += data


def json_error(status: int, reason: str, request_id: str) -> bytes:
    code = CODES.get(status, "internal_error" if status >= 500 else "http_error")
    body = json.dumps({"error": {"code": code, "message": reason, "details": {}}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {request_id}\r\n\r\n"
    )
    return head.encode("latin1") + body


class LedgerWorker(ThreadWorker):
    def handle(self, conn):
        if not conn.initialized:
            seconds = int(Config.CLIENT_READ_TIMEOUT_SECONDS)
            conn.sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", seconds, 0)
            )
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc):
        page = _Page()
        super().handle_error(req, page, addr, exc)
        status_line = page.written.split(b"\r\n", 1)[0].decode("latin1")
        _, status, reason = (status_line.split(" ", 2) + ["", ""])[:3]
        if not status.isdigit():
            status, reason = "500", "Internal Server Error"
        headers = dict(getattr(req, "headers", None) or [])
        request_id = request_id_from(headers.get("X-REQUEST-ID"))
        try:
            util.write_nonblock(client, json_error(int(status), reason, request_id))
        except OSError:
            self.log.debug("Failed to send error message.")
