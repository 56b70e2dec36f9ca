"""Holds in the bench: create, capture and void, each against single deductions.

Holds to capture from and to void are made through the service before the load starts
(money enters only through services); each void request names a hold of its own.
"""

import uuid
from dataclasses import dataclass

from bench.load import Scenario
from ledger.services.holds import create_hold

VOIDS_PER_ORG = 3


@dataclass(frozen=True)
class SeededHolds:
    to_capture: list[tuple[uuid.UUID, uuid.UUID]]  # (org, hold): one large hold per org
    to_void: list[tuple[uuid.UUID, uuid.UUID]]


def seed(orgs: list[uuid.UUID]) -> SeededHolds:
    """One large hold per organisation to capture from, and a few small ones to void."""

    def new_hold(org_id: uuid.UUID, name: str, amount: int) -> tuple[uuid.UUID, uuid.UUID]:
        made = create_hold(org_id=org_id, order_id=name, amount=amount, currency="KRW")
        return org_id, made.id

    return SeededHolds(
        to_capture=[new_hold(org, "capture-seed", 10**8) for org in orgs],
        to_void=[
            new_hold(org, f"void-seed-{k}", 100) for k in range(VOIDS_PER_ORG) for org in orgs
        ],
    )


def create(orgs: list[uuid.UUID]) -> Scenario:
    return Scenario(
        "POST", [f"/v1/orgs/{org}/holds" for org in orgs], {"order_id": "h-{id}", "amount": 1}
    )


def capture(holds: SeededHolds) -> Scenario:
    return Scenario(
        "POST",
        [f"/v1/orgs/{org}/holds/{hold}/captures" for org, hold in holds.to_capture],
        {"order_id": "c-{id}", "amount": 1},
    )


def void(holds: SeededHolds) -> Scenario:
    """Paths are taken in turn: no two requests name the same hold until all are void."""
    return Scenario("POST", [f"/v1/orgs/{org}/holds/{hold}/void" for org, hold in holds.to_void])
