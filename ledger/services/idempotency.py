"""The caller's order_id as idempotency key.

`claim` inserts the key inside the use case's transaction. The unique key
(org_id, kind, order_id) is where concurrent duplicates meet: the second insert waits
for the first transaction to finish, then either finds its result (replay, or a
conflict if the request differs) or, if the first rolled back, proceeds itself. Only
successful results are kept: a request that fails changes nothing, so the caller may
retry the same order_id (after a top-up, say).
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import text

from ledger.errors import IdempotencyConflict
from ledger.extensions import db


def request_hash(request: dict) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    key_id: int | None  # set when this request owns the key and must do the work
    replay_of: str | None  # the first request's result id, when this is a replay


_INSERT = text(
    "INSERT INTO idempotency_keys (org_id, kind, order_id, request_hash) "
    "VALUES (:org_id, :kind, :order_id, :hash) ON CONFLICT DO NOTHING RETURNING id"
)
_FIND = text(
    "SELECT request_hash, result_id FROM idempotency_keys "
    "WHERE org_id = :org_id AND kind = :kind AND order_id = :order_id"
)
_RECORD = text("UPDATE idempotency_keys SET result_id = :result_id WHERE id = :id")


def claim(*, org_id: object, kind: str, order_id: str, request: dict) -> Claim:
    """Claim the key for this request, or find the result of an earlier identical one.

    Raises:
        IdempotencyConflict: the order_id was used with a different request.
    """
    params = {"org_id": org_id, "kind": kind, "order_id": order_id, "hash": request_hash(request)}
    key_id = db.session.execute(_INSERT, params).scalar()
    if key_id is not None:
        return Claim(key_id=key_id, replay_of=None)
    first = db.session.execute(_FIND, params).one()
    if first.request_hash != params["hash"]:
        raise IdempotencyConflict(order_id=order_id)
    return Claim(key_id=None, replay_of=first.result_id)


def lookup(*, org_id: object, kind: str, order_id: str, request: dict) -> str | None:
    """The result of an earlier identical request, without claiming the key.

    For use cases that must call a gateway before they can claim (nothing is written
    when that call fails). Raises IdempotencyConflict like `claim`.
    """
    params = {"org_id": org_id, "kind": kind, "order_id": order_id}
    first = db.session.execute(_FIND, params).one_or_none()
    if first is None or first.result_id is None:
        return None
    if first.request_hash != request_hash(request):
        raise IdempotencyConflict(order_id=order_id)
    return first.result_id


def record(claim: Claim, result_id: object) -> None:
    """Remember what the claimed request made, in the same transaction."""
    db.session.execute(_RECORD, {"id": claim.key_id, "result_id": str(result_id)})
