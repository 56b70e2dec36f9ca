"""Holds in the bench: create, capture and void, each against single deductions.

Holds to capture from and to void are made through the service before the load starts
(money enters only through services); each void request names a hold of its own.
"""

import time
import uuid
from dataclasses import dataclass

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


def create(orgs: list[uuid.UUID]):
    return lambda i, n: (
        "POST",
        f"/v1/orgs/{orgs[(i * 7919 + n) % len(orgs)]}/holds",
        {"order_id": f"h-{i}-{n}-{time.monotonic_ns()}", "amount": 1},
    )


def capture(holds: SeededHolds):
    def request(i: int, n: int):
        org_id, hold_id = holds.to_capture[(i * 7919 + n) % len(holds.to_capture)]
        return (
            "POST",
            f"/v1/orgs/{org_id}/holds/{hold_id}/captures",
            {"order_id": f"c-{i}-{n}-{time.monotonic_ns()}", "amount": 1},
        )

    return request


def void(holds: SeededHolds, clients: int):
    """Client i's n-th void names hold n * clients + i: no two requests share a hold."""

    def request(i: int, n: int):
        org_id, hold_id = holds.to_void[(n * clients + i) % len(holds.to_void)]
        return "POST", f"/v1/orgs/{org_id}/holds/{hold_id}/void", None

    return request
