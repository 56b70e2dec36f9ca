"""Gateway webhooks: authenticated by their signatures, not by bearer tokens."""

from flask import request
from marshmallow import Schema, fields

from ledger.api.blueprint import Blueprint
from ledger.api.errors import ErrorSchema
from ledger.services import webhooks

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Gateway webhooks")


class WebhookReceiptSchema(Schema):
    received = fields.Boolean(required=True)
    outcome = fields.String(
        required=True,
        metadata={"description": "processed, unmatched (kept and retried) or duplicate"},
    )


@blp.post("/<string:provider>")
@blp.doc(security=[])
@blp.response(200, WebhookReceiptSchema)
@blp.alt_response(400, schema=ErrorSchema, description="invalid_signature: nothing stored")
@blp.alt_response(404, schema=ErrorSchema, description="no such gateway")
@blp.alt_response(502, schema=ErrorSchema, description="the gateway did not answer; retried")
def receive(provider: str):
    """Receive a gateway event: 200 once stored, 400 invalid_signature otherwise"""
    headers = dict(request.headers)  # names as WSGI gives them: Stripe-Signature, Webhook-Id
    outcome = webhooks.receive(provider, request.get_data(cache=False), headers)
    return {"received": True, "outcome": outcome}
