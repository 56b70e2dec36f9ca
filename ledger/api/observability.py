"""Per-request observability: Prometheus counts and latencies, one JSON log line each,
and `GET /metrics`.

Routes are labelled by their URL rule (`/v1/orgs/<uuid:org_id>/deductions`), never by
the raw path (unknown paths are `unmatched`), and unknown methods are `other`, so the
number of series stays bounded.
"""

import logging
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from ledger import metrics
from ledger.services import event_delivery

log = logging.getLogger("ledger.requests")

blp = Blueprint("observability", __name__)

# Any other method a client invents is counted under "other": labels stay bounded.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@blp.get("/metrics")
def metrics_text():
    body, content_type = metrics.exposition(
        current_app.config.get("PROMETHEUS_MULTIPROC_DIR"), _event_gauges()
    )
    return Response(body, content_type=content_type)


def _event_gauges() -> dict[str, tuple[str, float]]:
    """The event backlog, read from the database (shared by every process)."""
    try:
        backlog = event_delivery.backlog()
    except SQLAlchemyError:
        log.warning("event backlog unavailable: the database did not answer")
        return {}
    return {
        "ledger_events_pending": (
            "Events not yet delivered to every endpoint that subscribes",
            backlog.events_pending,
        ),
        "ledger_event_oldest_pending_age_seconds": (
            "Age of the oldest event not yet delivered",
            backlog.oldest_pending_seconds,
        ),
    }


def _start_timer() -> None:
    g.started_at = time.perf_counter()


def _observe(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("started_at", time.perf_counter())
    route = request.url_rule.rule if request.url_rule else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "other"
    metrics.REQUESTS.labels(method, route, str(response.status_code)).inc()
    metrics.REQUEST_SECONDS.labels(method, route).observe(seconds)
    org_id = (request.view_args or {}).get("org_id")
    log.info(
        "request",
        extra={
            "method": method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "org_id": str(org_id) if org_id else None,
        },
    )
    return response


def register_observability(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(blp)
