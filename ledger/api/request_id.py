"""X-Request-Id on every response: the caller's, if it sent a sane one, else a new one."""

import re
import uuid

from flask import Flask, Response, g, request

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(incoming: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    return incoming if incoming and _SANE.match(incoming) else uuid.uuid4().hex


def assign_request_id() -> None:
    g.request_id = request_id_from(request.headers.get("X-Request-Id"))


def add_request_id(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id") or uuid.uuid4().hex
    return response


def register_request_id(app: Flask) -> None:
    app.before_request(assign_request_id)
    app.after_request(add_request_id)
