"""Prometheus metrics: what `GET /metrics` reports.

Services count business outcomes here (deductions, top-ups, webhook events); the
request hooks in `ledger/api/observability.py` count requests and their latency.

Under gunicorn every worker is its own process. When PROMETHEUS_MULTIPROC_DIR is set
(config.py reads it; prometheus-client reads the same variable when it is imported),
each worker writes its samples to files in that directory and `/metrics` adds up all
workers' files, so any worker answers for the whole service.
"""

from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "ledger_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "ledger_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DEDUCTIONS = Counter(
    "ledger_deductions_total",
    "Deductions by outcome: created, replayed, or the error code",
    ["outcome"],
)
TOPUPS = Counter(
    "ledger_topups_total",
    "Top-ups by provider and outcome: created, paid, failed, canceled, or the error code",
    ["provider", "outcome"],
)
WEBHOOK_EVENTS = Counter(
    "ledger_webhook_events_total",
    "Webhook events by provider and result: processed, duplicate, failed, invalid_signature",
    ["provider", "result"],
)
EVENT_DELIVERIES = Counter(
    "ledger_event_delivery_attempts_total",
    "Attempts to deliver an event to a webhook endpoint by outcome: "
    "delivered, http_error, no_answer",
    ["outcome"],
)


def count_deduction(outcome: str) -> None:
    DEDUCTIONS.labels(outcome=outcome).inc()


def count_topup(provider: str, outcome: str) -> None:
    TOPUPS.labels(provider=provider, outcome=outcome).inc()


def count_webhook(provider: str, result: str) -> None:
    WEBHOOK_EVENTS.labels(provider=provider, result=result).inc()


def count_event_delivery(outcome: str) -> None:
    EVENT_DELIVERIES.labels(outcome=outcome).inc()


def exposition(
    multiproc_dir: str | None, gauges: dict[str, tuple[str, float]] | None = None
) -> tuple[bytes, str]:
    """The text exposition of every metric (of all workers, in multiprocess mode), and
    `gauges` (name: (help, value)) read from the database at scrape time."""
    if multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return body + _gauges_text(gauges or {}), CONTENT_TYPE_LATEST


def _gauges_text(gauges: dict[str, tuple[str, float]]) -> bytes:
    registry = CollectorRegistry()
    for name, (documentation, value) in gauges.items():
        Gauge(name, documentation, registry=registry).set(value)
    return generate_latest(registry)


def clear_samples(multiproc_dir: str | None) -> None:
    """Remove the samples that earlier processes left in the multiprocess directory."""
    if multiproc_dir:
        for path in Path(multiproc_dir).glob("*.db"):
            path.unlink()
