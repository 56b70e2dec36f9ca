"""Gateway webhooks: authenticated by their signatures, not by bearer tokens."""

from flask import jsonify, request
from flask_smorest import Blueprint

from ledger.services import webhooks

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Gateway webhooks")


@blp.post("/<string:provider>")
@blp.doc(security=[])
def receive(provider: str):
    """Receive a gateway event: 200 once stored, 400 invalid_signature otherwise"""
    outcome = webhooks.receive(provider, request.get_data(cache=False), request.headers)
    return jsonify(received=True, outcome=outcome)
