"""The contract's error envelope, for every error the app can raise.

`{"error": {"code": "...", "message": "...", "details": {...}}}`, with the request id
header added by `ledger/api/request_id.py`. Known constraint names in an
IntegrityError become 409s; anything unexpected is a 500 that shows no internals.
"""

import logging

from flask import Flask, jsonify
from flask_smorest import Api
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from ledger.api.metadata import validation_failure
from ledger.errors import LedgerError

log = logging.getLogger(__name__)

# Unique keys that a race can hit after the code's own checks passed.
CONSTRAINT_CODES = {
    "uq_refund_requests_open_topup": ("refund_already_pending", 409),
    "uq_topups_org_id_order_id": ("idempotency_conflict", 409),
}


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


def envelope(code: str, message: str, status: int, details: dict | None = None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


def render_ledger_error(error: LedgerError):
    body, status = envelope(error.code, error.message, error.http_status, error.details)
    if status == 401:
        body.headers["WWW-Authenticate"] = "Bearer"
    return body, status


def render_http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        # flask-smorest/webargs validation: {"json": {"field": ["..."]}}
        fields = {k: v for location in messages.values() for k, v in location.items()}
        return render_ledger_error(validation_failure(fields))
    if status == 400 and messages:
        return envelope("invalid_json", "the body is not valid JSON", 400)
    body, status = envelope(HTTP_CODES.get(status, "http_error"), error.description or "", status)
    if status == 405:
        body.headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or ())
    if status == 401:
        body.headers["WWW-Authenticate"] = "Bearer"
    return body, status


class LedgerApi(Api):
    """flask-smorest's Api, documenting and rendering errors in our envelope."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return render_http_exception(error)


def render_integrity_error(error: IntegrityError):
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint in CONSTRAINT_CODES:
        code, status = CONSTRAINT_CODES[constraint]
        return envelope(code, "the request conflicts with an earlier one", status)
    log.exception("integrity error")
    return envelope("internal_error", "internal error", 500)


def render_unexpected(error: Exception):
    log.exception("unhandled error", exc_info=error)
    return envelope("internal_error", "internal error", 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(LedgerError, render_ledger_error)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(IntegrityError, render_integrity_error)
    app.register_error_handler(Exception, render_unexpected)
