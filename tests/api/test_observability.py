"""GET /metrics and the per-request JSON log line."""

import json
import logging
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families


def sample(client, name, **labels):
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


DEDUCTIONS_ROUTE = "/v1/orgs/<uuid:org_id>/deductions"


def test_metrics_count_requests_latencies_and_deduction_outcomes(caller, org):
    caller.grant(org, 100)
    client = caller.client
    created = sample(
        client, "ledger_http_requests_total", route=DEDUCTIONS_ROUTE, status="201", method="POST"
    )
    timed = sample(client, "ledger_http_request_duration_seconds_count", route=DEDUCTIONS_ROUTE)
    refused = sample(client, "ledger_deductions_total", outcome="insufficient_credit")
    ok = sample(client, "ledger_deductions_total", outcome="created")

    caller.deduct(org, 60)
    caller.deduct(org, 60)

    assert (
        sample(
            client,
            "ledger_http_requests_total",
            route=DEDUCTIONS_ROUTE,
            status="201",
            method="POST",
        )
        == created + 1
    )
    assert (
        sample(
            client,
            "ledger_http_requests_total",
            route=DEDUCTIONS_ROUTE,
            status="402",
            method="POST",
        )
        >= 1
    )
    assert (
        sample(client, "ledger_http_request_duration_seconds_count", route=DEDUCTIONS_ROUTE)
        == timed + 2
    )
    assert sample(client, "ledger_deductions_total", outcome="insufficient_credit") == refused + 1
    assert sample(client, "ledger_deductions_total", outcome="created") == ok + 1


def test_metrics_name_top_ups_and_webhook_events(client):
    text = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE ledger_topups_total counter" in text
    assert "# TYPE ledger_webhook_events_total counter" in text


class Lines(logging.Handler):
    """Collects what the service's own log handler would write, parsed."""

    def __init__(self):
        super().__init__()
        self.lines = []
        (service_handler,) = logging.getLogger("ledger").handlers
        self.setFormatter(service_handler.formatter)
        for log_filter in service_handler.filters:
            self.addFilter(log_filter)

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def test_each_request_logs_one_json_line(caller, org):
    lines = Lines()
    logging.getLogger("ledger.requests").addHandler(lines)
    try:
        r = caller.deduct(org, 5, headers={**caller.service, "X-Request-Id": "req-42"})
        caller.client.get("/nowhere")
    finally:
        logging.getLogger("ledger.requests").removeHandler(lines)

    deduction, missing = lines.lines
    assert r.status_code == 402
    assert deduction["request_id"] == "req-42"
    assert deduction["route"] == DEDUCTIONS_ROUTE
    assert deduction["status"] == 402
    assert deduction["org_id"] == org.id
    assert deduction["duration_ms"] >= 0
    assert deduction["level"] == "INFO"
    assert deduction["timestamp"].startswith(str(datetime.now(UTC).year))
    assert (missing["route"], missing["status"], missing["org_id"]) == ("unmatched", 404, None)
