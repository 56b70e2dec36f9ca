"""Request bodies are bounded: over MAX_BODY_BYTES is `413 payload_too_large`.

A declared Content-Length is refused before anything reads the body. A chunked body
has no declared length, and werkzeug's own limit silently cuts it short; so it is read
here, at most MAX_BODY_BYTES + 1 bytes, refused when longer, and otherwise handed on
with its length declared. A worker never holds more than that of one request.
"""

import io

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge


def _bound_body() -> None:
    limit = current_app.config["MAX_BODY_BYTES"]
    too_large = RequestEntityTooLarge(f"the body is larger than {limit} bytes")
    if request.content_length is not None:
        if request.content_length > limit:
            raise too_large
        return
    environ = request.environ
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            raise too_large
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))


def register_limits(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.before_request(_bound_body)
