"""The platform's webhook endpoints (operators): where events are sent."""

import uuid

from flask.views import MethodView

from ledger.api.auth import require_operator
from ledger.api.blueprint import Blueprint
from ledger.api.responses import document_errors, require_authentication
from ledger.api.schemas.common import ListArgsSchema
from ledger.api.schemas.webhook_endpoints import (
    DeliveryAttemptPageSchema,
    WebhookEndpointCreatedSchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointPageSchema,
    WebhookEndpointSchema,
    WebhookEndpointUpdateSchema,
)
from ledger.services import webhook_endpoints

blp = Blueprint(
    "webhook_endpoints",
    __name__,
    url_prefix="/v1/webhook-endpoints",
    description="Webhook endpoints (operators)",
)
blp.before_request(require_authentication)


@blp.before_request
def _operators_only() -> None:
    require_operator()


@blp.route("")
class WebhookEndpoints(MethodView):
    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointCreatedSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body):
        """Register an endpoint; its signing secret is shown once"""
        return webhook_endpoints.create_endpoint(**body)

    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, WebhookEndpointPageSchema)
    @document_errors(blp, 401, 403, 422)
    def get(self, args):
        """Endpoints, newest first, without secrets"""
        return webhook_endpoints.list_endpoints(**args)


@blp.route("/<uuid:endpoint_id>")
class WebhookEndpointResource(MethodView):
    @blp.response(200, WebhookEndpointSchema)
    @document_errors(blp, 401, 403, 404)
    def get(self, endpoint_id: uuid.UUID):
        """An endpoint, without its secret"""
        return webhook_endpoints.get_endpoint(endpoint_id)

    @blp.arguments(WebhookEndpointUpdateSchema)
    @blp.response(200, WebhookEndpointSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def patch(self, body, endpoint_id: uuid.UUID):
        """Change the event types it receives, or enable/disable it"""
        return webhook_endpoints.update_endpoint(endpoint_id=endpoint_id, **body)

    @blp.response(204)
    @document_errors(blp, 401, 403, 404)
    def delete(self, endpoint_id: uuid.UUID):
        """Remove an endpoint: nothing more is sent to it"""
        webhook_endpoints.delete_endpoint(endpoint_id=endpoint_id)


@blp.route("/<uuid:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, DeliveryAttemptPageSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, endpoint_id: uuid.UUID):
        """The endpoint's delivery attempts, newest first"""
        return webhook_endpoints.list_attempts(endpoint_id=endpoint_id, **args)
