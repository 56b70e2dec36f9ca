"""HTTP layer: flask-smorest blueprints that parse, call one service, and serialise."""

from flask import Flask
from flask_smorest import Api

from ledger.api import (
    admin,
    api_keys,
    credits,
    health,
    organizations,
    portal_sessions,
    refunds,
    topups,
    webhooks,
)
from ledger.pages import register_pages


def register_blueprints(app: Flask, api: Api) -> None:
    for module in (organizations, credits, topups, refunds, api_keys, admin, webhooks):
        api.register_blueprint(module.blp)
    api.register_blueprint(refunds.admin_blp)
    app.register_blueprint(health.blp)
    api.register_blueprint(portal_sessions.blp)
    register_pages(app)  # /console/, /portal/ and /docs' files
