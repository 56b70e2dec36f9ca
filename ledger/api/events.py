"""Events: listed for an organisation and for operators; redelivered by operators."""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access, require_operator
from ledger.api.blueprint import Blueprint
from ledger.api.errors import ErrorSchema
from ledger.api.responses import document_errors, require_authentication
from ledger.api.schemas.disputes import DisputeSchema
from ledger.api.schemas.events import (
    AllEventsListArgsSchema,
    EventListArgsSchema,
    EventPageSchema,
    RedeliverSchema,
    RedeliverySchema,
)
from ledger.api.schemas.holds import HoldSchema
from ledger.api.schemas.refunds import RefundRequestSchema
from ledger.api.schemas.topups import TopupSchema
from ledger.book import show_as
from ledger.models import Dispute, RefundRequest, Topup
from ledger.services import events
from ledger.services.holds import HoldView

blp = Blueprint("events", __name__, url_prefix="/v1", description="Events")
blp.before_request(require_authentication)


def show_event_data_as_the_api() -> None:
    """Events about top-ups, refund requests, disputes and holds carry them as their routes
    show them."""
    show_as(Topup, TopupSchema().dump)
    show_as(RefundRequest, RefundRequestSchema().dump)
    show_as(Dispute, DisputeSchema().dump)
    show_as(HoldView, HoldSchema().dump)


@blp.route("/orgs/<uuid:org_id>/events")
class OrganizationEvents(MethodView):
    @blp.arguments(EventListArgsSchema, location="query")
    @blp.response(200, EventPageSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def get(self, args, org_id: uuid.UUID):
        """The organisation's events, newest first"""
        org_access(org_id, "read")
        return events.list_events(org_id=org_id, **args)


@blp.route("/events")
class AllEvents(MethodView):
    @blp.arguments(AllEventsListArgsSchema, location="query")
    @blp.response(200, EventPageSchema)
    @document_errors(blp, 401, 403, 422)
    def get(self, args):
        """Every organisation's events, newest first (operators)"""
        require_operator()
        return events.list_events(**args)


@blp.route("/admin/events/<uuid:event_id>/redeliver")
class Redeliver(MethodView):
    @blp.arguments(RedeliverSchema)
    @blp.response(202, RedeliverySchema)
    @blp.alt_response(
        409, schema=ErrorSchema, description="the endpoint is disabled or not subscribed"
    )
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, event_id: uuid.UUID):
        """Send an event again (same webhook-id), to one endpoint or every one subscribed"""
        require_operator()
        queued = events.redeliver(event_id=event_id, **body)
        return {"event_id": event_id, "endpoint_ids": queued}
