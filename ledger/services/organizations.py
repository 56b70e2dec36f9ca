"""Organisations and their API keys."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text

from ledger import clock
from ledger.book import lock_wallets, settle_low_balance, unit_of_work
from ledger.errors import NotFound
from ledger.extensions import db
from ledger.models import ApiKey, Organization

API_KEY_PREFIX = "lk_"


def create_organization(*, name: str, billing_email: str, currency: str) -> Organization:
    """Create a tenant with its wallets in its currency."""
    with unit_of_work():
        org = Organization(name=name, billing_email=billing_email, currency=currency)
        db.session.add(org)
        db.session.flush()
        lock_wallets(org.id, currency, "available", "held")
    return org


def get_organization(org_id: uuid.UUID) -> Organization:
    """The organisation, or NotFound."""
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound("organisation not found")
    return org


def set_low_balance_threshold(*, org_id: uuid.UUID, threshold: int | None) -> Organization:
    """Set (or, with None, turn off) the threshold below which `balance.low` is sent.

    Decided at once under the wallet lock: a threshold above the balance alerts now,
    one at or below it re-arms the alert.
    """
    currency = organization_currency(org_id)
    with unit_of_work():
        wallet = lock_wallets(org_id, currency)["available"]
        db.session.execute(
            text("UPDATE organizations SET low_balance_threshold = :threshold WHERE id = :id"),
            {"threshold": threshold, "id": org_id},
        )
        wallet.low_balance_threshold = threshold
        settle_low_balance([wallet])
    return get_organization(org_id)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    key: str  # the clear key: shown once, never stored

    def __getattr__(self, name: str):
        return getattr(self.api_key, name)


def create_api_key(
    *, org_id: uuid.UUID, name: str, scopes: list[str], created_by: str
) -> NewApiKey:
    """Make a key; only its hash is stored."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work():
        key = ApiKey(
            org_id=org_id,
            name=name,
            scopes=sorted(set(scopes)),
            key_hash=hash_api_key(secret),
            prefix=secret[:10],
            created_by=created_by,
        )
        db.session.add(key)
    return NewApiKey(key, secret)


def list_api_keys(*, org_id: uuid.UUID) -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey).where(ApiKey.org_id == org_id).order_by(ApiKey.created_at.desc())
        )
    )


def revoke_api_key(*, org_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Revoke at once: the next request with the key is refused."""
    with unit_of_work():
        revoked = db.session.execute(
            text(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, :now) "
                "WHERE id = :id AND org_id = :org_id RETURNING id"
            ),
            {"id": key_id, "org_id": org_id, "now": clock.now()},
        ).scalar()
        if revoked is None:
            raise NotFound("api key not found")


@dataclass(frozen=True)
class ApiKeyIdentity:
    key_id: uuid.UUID
    org_id: uuid.UUID
    scopes: tuple[str, ...]


def authenticate_api_key(secret: str) -> ApiKeyIdentity | None:
    """The live key with this secret, or None."""
    with unit_of_work():  # ends the read: no idle-in-transaction connection
        row = db.session.execute(
            text(
                "SELECT id, org_id, scopes FROM api_keys "
                "WHERE key_hash = :hash AND revoked_at IS NULL"
            ),
            {"hash": hash_api_key(secret)},
        ).one_or_none()
    return ApiKeyIdentity(row.id, row.org_id, tuple(row.scopes)) if row else None


# Organisations are never deleted and their currency never changes, so what one request
# learnt stays true: every later request of this process skips two round trips.
_currencies: dict[uuid.UUID, str] = {}
_CURRENCY_CACHE_LIMIT = 100_000


def organization_currency(org_id: uuid.UUID) -> str:
    """The organisation's own currency; NotFound if there is no such organisation."""
    currency = _currencies.get(org_id)
    if currency is None:
        currency = db.session.execute(
            text("SELECT currency FROM organizations WHERE id = :id"), {"id": org_id}
        ).scalar()
        if currency is None:
            raise NotFound("organisation not found")
        if len(_currencies) >= _CURRENCY_CACHE_LIMIT:
            _currencies.clear()
        _currencies[org_id] = currency
    return currency


def search_organizations(*, query: str, limit: int = 50) -> list[Organization]:
    """Organisations whose id is `query` or whose name contains it, newest first (operators).

    An empty query lists the newest organisations.
    """
    query = query.strip()
    statement = select(Organization).order_by(Organization.created_at.desc()).limit(limit)
    try:
        return list(db.session.scalars(statement.where(Organization.id == uuid.UUID(query))))
    except ValueError:
        pass
    if query:
        statement = statement.where(Organization.name.icontains(query, autoescape=True))
    return list(db.session.scalars(statement))
