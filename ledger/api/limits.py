"""Request bodies are bounded: over MAX_BODY_BYTES is `413 payload_too_large`.

A declared Content-Length is refused before anything reads the body; a chunked body
is read through werkzeug's limit (MAX_CONTENT_LENGTH), which stops at the bound, so a
worker never holds more than MAX_BODY_BYTES of one request.
"""

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge


def _refuse_declared_oversize() -> None:
    limit = current_app.config["MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"the body is larger than {limit} bytes")


def register_limits(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.before_request(_refuse_declared_oversize)
