"""Liveness and readiness."""

from flask import Blueprint, jsonify

from ledger.services.health import schema_at_head

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    problem = schema_at_head()
    if problem:
        return jsonify(status="unavailable", reason=problem), 503
    return jsonify(status="ready")
