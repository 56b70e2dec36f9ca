"""Every API blueprint is ours (ledger.api.blueprint.Blueprint): its bodies are parsed
safely and its argument schemas are made once. Holds, disputes, events, webhook
endpoints and portal sessions once used flask-smorest's own, and answered 500 to JSON
nested 100,000 deep (tests/safety/test_input.py)."""

import flask_smorest

from ledger.api.blueprint import Blueprint


def test_every_api_blueprint_parses_as_ours(app):
    smorest = [bp for bp in app.blueprints.values() if isinstance(bp, flask_smorest.Blueprint)]
    assert len(smorest) >= 14
    assert [bp.name for bp in smorest if not isinstance(bp, Blueprint)] == []
