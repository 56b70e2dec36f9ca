"""The caller's order_id as idempotency key.

`claim` inserts the key inside the use case's transaction. The unique key
(org_id, kind, order_id) is where concurrent duplicates meet: the second insert waits
for the first transaction to finish, then either finds its result (replay, or a
conflict if the request differs) or, if the first rolled back, proceeds itself. Only
successful results are kept: a request that fails changes nothing, so the caller may
retry the same order_id (after a top-up, say).

A batch claims all its keys at once (`claim_many`), in order_id order, so two batches
sharing keys wait for each other in one direction only, and settles them at the end
(`settle_many`): keys whose request succeeded keep its result, the others are deleted.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from ledger.errors import IdempotencyConflict
from ledger.extensions import db


def request_hash(request: dict[str, Any]) -> str:
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


def claim(*, org_id: object, kind: str, order_id: str, request: dict[str, Any]) -> Claim:
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


def lookup(*, org_id: object, kind: str, order_id: str, request: dict[str, Any]) -> str | None:
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
    result_id: str = first.result_id
    return result_id


def record(claim: Claim, result_id: object) -> None:
    """Remember what the claimed request made, in the same transaction."""
    db.session.execute(_RECORD, {"id": claim.key_id, "result_id": str(result_id)})


@dataclass
class Key:
    """An order_id's key as a batch sees it: claimed by this batch, or settled earlier."""

    order_id: str
    request_hash: str
    result_id: str | None  # None while the batch owns the key and nothing succeeded yet
    owned: bool


_INSERT_MANY = text(
    "INSERT INTO idempotency_keys (org_id, kind, order_id, request_hash) "
    "SELECT :org_id, :kind, k.order_id, k.hash "
    "FROM unnest(CAST(:order_ids AS text[]), CAST(:hashes AS text[])) AS k(order_id, hash) "
    'ORDER BY k.order_id COLLATE "C" '
    "ON CONFLICT DO NOTHING RETURNING order_id, request_hash"
)
_FIND_MANY = text(
    "SELECT order_id, request_hash, result_id FROM idempotency_keys "
    "WHERE org_id = :org_id AND kind = :kind AND order_id = ANY(:order_ids)"
)
_SETTLE = text(
    "UPDATE idempotency_keys k SET request_hash = s.hash, result_id = s.result_id "
    "FROM unnest(CAST(:order_ids AS text[]), CAST(:hashes AS text[]), "
    "            CAST(:result_ids AS text[])) AS s(order_id, hash, result_id) "
    "WHERE k.org_id = :org_id AND k.kind = :kind AND k.order_id = s.order_id"
)
_RELEASE = text(
    "DELETE FROM idempotency_keys "
    "WHERE org_id = :org_id AND kind = :kind AND order_id = ANY(:order_ids)"
)


def claim_many(*, org_id: object, kind: str, requests: dict[str, dict[str, Any]]) -> dict[str, Key]:
    """Claim every order_id not used before (two round trips, whatever the count).

    `requests` maps each order_id to its first request. The others' keys come back
    with the earlier request's hash and result, for the caller to replay or refuse.
    """
    order_ids = sorted(requests)
    params = {
        "org_id": org_id,
        "kind": kind,
        "order_ids": order_ids,
        "hashes": [request_hash(requests[o]) for o in order_ids],
    }
    keys = {
        row.order_id: Key(row.order_id, row.request_hash, None, owned=True)
        for row in db.session.execute(_INSERT_MANY, params)
    }
    taken = [o for o in order_ids if o not in keys]
    if taken:
        found = db.session.execute(_FIND_MANY, {**params, "order_ids": taken})
        keys.update(
            {r.order_id: Key(r.order_id, r.request_hash, r.result_id, owned=False) for r in found}
        )
    return keys


def settle_many(*, org_id: object, kind: str, keys: list[Key]) -> None:
    """Keep the results of the claimed keys whose request succeeded; free the others."""
    done = [k for k in keys if k.owned and k.result_id is not None]
    failed = [k.order_id for k in keys if k.owned and k.result_id is None]
    scope = {"org_id": org_id, "kind": kind}
    if done:
        db.session.execute(
            _SETTLE,
            {
                **scope,
                "order_ids": [k.order_id for k in done],
                "hashes": [k.request_hash for k in done],
                "result_ids": [k.result_id for k in done],
            },
        )
    if failed:
        db.session.execute(_RELEASE, {**scope, "order_ids": failed})
