"""Fixtures for events: endpoints on the local receiver, and the delivery worker in-process."""

import pytest
from sqlalchemy import text

from ledger.book import record_event, unit_of_work
from ledger.extensions import db
from ledger.services.event_delivery import deliver_due


class Endpoints:
    """Registers webhook endpoints through the API, each a path on the receiver."""

    def __init__(self, caller, receiver):
        self.caller = caller
        self.receiver = receiver
        self.created: list[str] = []

    def add(self, name, events=("*",), org=None, **extra) -> dict:
        body = {"url": self.receiver.url(name), "events": list(events), **extra}
        if org is not None:
            body["org_id"] = org.id
        r = self.caller.client.post(
            "/v1/webhook-endpoints", json=body, headers=self.caller.operator
        )
        assert r.status_code == 201, r.json
        self.receiver.trust(name, r.json["secret"])
        self.created.append(r.json["id"])
        return r.json

    def patch(self, endpoint_id, **body) -> dict:
        r = self.caller.client.patch(
            f"/v1/webhook-endpoints/{endpoint_id}", json=body, headers=self.caller.operator
        )
        assert r.status_code == 200, r.json
        return r.json

    def attempts(self, endpoint_id) -> list[dict]:
        r = self.caller.client.get(
            f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=self.caller.operator
        )
        assert r.status_code == 200, r.json
        return r.json["data"]

    def remove_all(self) -> None:
        for endpoint_id in self.created:
            self.caller.client.delete(
                f"/v1/webhook-endpoints/{endpoint_id}", headers=self.caller.operator
            )


@pytest.fixture
def endpoints(app, caller, receiver):
    """Endpoints made by the test, and no others (earlier tests' are removed first, with
    their queues); removed afterwards too, so no later test sends to them."""
    with app.app_context():
        db.session.execute(text("DELETE FROM webhook_endpoints"))
        db.session.commit()
    made = Endpoints(caller, receiver)
    yield made
    made.remove_all()


@pytest.fixture
def deliver(app):
    """Run the worker once in this process (`deliver-events --once`)."""

    def run():
        with app.app_context():
            return deliver_due()

    return run


@pytest.fixture
def emit(app):
    """Record an event as the core would, in a transaction of its own."""

    def record(org, type_, data=None) -> None:
        with app.app_context(), unit_of_work():
            record_event(org_id=org.id, type=type_, data=data or {"note": type_})

    return record
