"""The app under gunicorn with several worker processes: /metrics speaks for all of them."""

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.server import Gunicorn


def healthz_count(base: str) -> float:
    with urllib.request.urlopen(f"{base}/metrics") as r:  # noqa: S310 - loopback
        text = r.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "ledger_http_requests_total" and s.labels["route"] == "/healthz"
    )


def test_metrics_add_up_every_worker(app, database_url):
    with Gunicorn(database_url, workers=2) as server:
        before = healthz_count(server.base)
        for _ in range(40):
            # A new connection each time, so both workers answer some.
            urllib.request.urlopen(f"{server.base}/healthz").close()  # noqa: S310
        after = healthz_count(server.base)
        assert len(server.worker_pids()) == 2
    assert after - before == 40
