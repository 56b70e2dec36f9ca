"""Operability: failed top-up creations are counted, the token command says what is
wrong in one line, and the embedded PostgreSQL can be stopped."""

from prometheus_client.parser import text_string_to_metric_families

from ledger.embedded_db import embedded_database_url, stop_embedded_database
from tests.helpers import new_order_id


def topup_count(client, provider, outcome) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "ledger_topups_total"
        and s.labels == {"provider": provider, "outcome": outcome}
    )


def test_failed_top_up_creations_are_counted(caller):
    org = caller.create_org(currency="USD")
    before = topup_count(caller.client, "portone", "unsupported_currency")
    r = caller.client.post(
        f"/v1/orgs/{org.id}/topups",
        json={"order_id": new_order_id("top"), "amount": 1000, "provider": "portone"},
        headers=caller.user(org, "owner"),
    )
    assert r.status_code == 422, r.json
    assert topup_count(caller.client, "portone", "unsupported_currency") == before + 1


def test_token_for_a_malformed_org_is_a_one_line_error(app):
    result = app.test_cli_runner().invoke(args=["ledger", "token", "--org", "not-a-uuid"])
    assert result.exit_code != 0
    assert result.output.strip() == "Error: --org 'not-a-uuid' is not an organisation id"


def test_the_embedded_database_stops(tmp_path):
    embedded_database_url(tmp_path)
    assert (tmp_path / "postmaster.pid").exists()
    assert stop_embedded_database(tmp_path)
    assert not (tmp_path / "postmaster.pid").exists()
