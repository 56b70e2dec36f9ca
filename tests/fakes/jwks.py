"""A local identity provider's JWKS endpoint: it counts fetches and can be held mid-fetch."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc.jwk import KeySet


class FakeJwks:
    """`with FakeJwks(keys) as jwks:` serves the public keys at `jwks.url`."""

    def __init__(self, keys) -> None:
        self.document = json.dumps(KeySet(keys).as_dict(private=False)).encode()
        self.fetches = 0
        self.hold: threading.Event | None = None  # set: fetches wait until it is set
        self.holding = threading.Event()  # a fetch is waiting on `hold`
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                fake.fetches += 1
                if fake.hold is not None:
                    fake.holding.set()
                    fake.hold.wait(30)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(fake.document)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"

    def __enter__(self) -> "FakeJwks":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
