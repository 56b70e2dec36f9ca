"""Shared response helpers."""

from flask import g

from ledger.api.auth import authenticate
from ledger.api.errors import ErrorSchema

REPLAYED_HEADER = "Idempotent-Replayed"


def created(result, status: int = 201):
    """201 with the result; a replay of an earlier order_id says so in a header."""
    headers = {REPLAYED_HEADER: "true"} if getattr(result, "replayed", False) else {}
    return result, status, headers


def require_authentication() -> None:
    """before_request hook of every authenticated blueprint."""
    g.principal = authenticate()


ERROR_RESPONSES = {
    401: "missing or invalid token",
    403: "the caller lacks the right",
    404: "not found, or not the caller's",
    422: "invalid input",
}


def document_errors(blp, *statuses: int):
    """Document the error envelope for these statuses on a view."""

    def decorator(view):
        for status in statuses:
            view = blp.alt_response(
                status, schema=ErrorSchema, description=ERROR_RESPONSES.get(status, "error")
            )(view)
        return view

    return decorator
