"""HTTP layer: flask-smorest blueprints that parse, call one service, and serialise."""

from flask import Flask
from flask_smorest import Api

from ledger.api import (
    admin,
    api_keys,
    credits,
    disputes,
    events,
    health,
    holds,
    organizations,
    portal_sessions,
    refunds,
    topups,
    webhook_endpoints,
    webhooks,
)
from ledger.api.errors import LedgerApi

# Bound to the app in `create_app`; documents and renders errors in our envelope.
api = LedgerApi()


def register_blueprints(app: Flask, api: Api) -> None:
    modules = (organizations, credits, holds, topups, refunds, disputes, api_keys, admin, webhooks)
    for module in modules:
        api.register_blueprint(module.blp)
    api.register_blueprint(refunds.admin_blp)
    api.register_blueprint(disputes.admin_blp)
    api.register_blueprint(events.blp)
    api.register_blueprint(webhook_endpoints.blp)
    events.show_event_data_as_the_api()
    app.register_blueprint(health.blp)
    api.register_blueprint(portal_sessions.blp)
    # The pages (/console/, /portal/, /docs' files) build on the API's auth, so they are
    # imported once the API is.
    from ledger.pages import register_pages

    register_pages(app)
