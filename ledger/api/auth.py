"""Who is calling, and what they may do.

Every `/v1` request carries `Authorization: Bearer <token>`. A token starting with
`lk_` is an organisation API key (looked up by its hash); anything else is a JWT:
HS256 signed with JWT_SECRET, or RS256/ES256 checked against the JWKS at
JWT_JWKS_URL. The caller becomes a `Principal` in `g.principal`. A JWT once verified
is remembered by its hash for a few seconds (never past its `exp`), per app, so a busy
caller's token is not decoded and checked again on every request.

`org_access(org_id, action)` is the one place that decides organisation access:
another organisation's caller gets 404 (its existence is not revealed), a caller
of the right organisation without the right gets 403.
"""

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from flask import current_app, g, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from joserfc.jws import extract_compact

from ledger.errors import Forbidden, NotFound, Unauthenticated
from ledger.services.organizations import (
    API_KEY_PREFIX,
    authenticate_api_key,
    organization_currency,
)

ORG_ROLES = ("owner", "admin", "member", "viewer")

# Which organisation roles, key scopes and platform roles may do each action.
RIGHTS: dict[str, dict[str, frozenset[str]]] = {
    "read": {
        "org_roles": frozenset(ORG_ROLES),
        "scopes": frozenset({"credits:read"}),
        "platform": frozenset({"operator", "service"}),
    },
    "topup": {
        "org_roles": frozenset({"owner", "admin", "member"}),
        "scopes": frozenset({"topups:write"}),
        "platform": frozenset({"operator"}),
    },
    "deduct": {
        "org_roles": frozenset(),
        "scopes": frozenset({"credits:deduct"}),
        "platform": frozenset({"operator", "service"}),
    },
    # Reversing a charge is the platform's correction, never the organisation's own.
    "reverse": {
        "org_roles": frozenset(),
        "scopes": frozenset(),
        "platform": frozenset({"operator", "service"}),
    },
    "refund": {
        "org_roles": frozenset({"owner", "admin"}),
        "scopes": frozenset(),
        "platform": frozenset({"operator"}),
    },
    "set_threshold": {
        "org_roles": frozenset({"owner", "admin"}),
        "scopes": frozenset(),
        "platform": frozenset({"operator", "service"}),
    },
    "manage_keys": {
        "org_roles": frozenset({"owner", "admin"}),
        "scopes": frozenset(),
        "platform": frozenset(),
    },
    "open_portal": {
        "org_roles": frozenset({"owner", "admin"}),
        "scopes": frozenset(),
        "platform": frozenset({"operator", "service"}),
    },
}


@dataclass(frozen=True)
class Principal:
    subject: str  # user id, or "key:<id>"
    org_id: uuid.UUID | None = None
    org_role: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    is_api_key: bool = False

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles


def authenticate() -> Principal:
    """Build the caller from the Authorization header, or raise Unauthenticated."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    token = token.strip()
    if token.startswith(API_KEY_PREFIX):
        key = authenticate_api_key(token)
        if key is None:
            raise Unauthenticated("the API key is not valid or has been revoked")
        return Principal(
            subject=f"key:{key.key_id}",
            org_id=key.org_id,
            scopes=frozenset(key.scopes),
            is_api_key=True,
        )
    return _principal_from_claims(_verified_claims(token))


def current_principal() -> Principal:
    return g.principal


def require_operator() -> Principal:
    principal = current_principal()
    if not principal.is_operator:
        raise Forbidden("operators only")
    return principal


def org_access(org_id: uuid.UUID, action: str) -> Principal:
    """Check the caller may do `action` on this organisation.

    Raises:
        NotFound: the organisation does not exist or is not the caller's.
        Forbidden: the caller sees the organisation but lacks the right.
    """
    principal = current_principal()
    rights = RIGHTS[action]
    platform_roles = principal.roles & {"operator", "service"}
    if platform_roles:
        organization_currency(org_id)  # NotFound if there is none
        if platform_roles & rights["platform"]:
            return principal
        raise Forbidden()
    if principal.org_id != org_id:
        raise NotFound("organisation not found")
    organization_currency(org_id)
    allowed = (
        principal.scopes & rights["scopes"]
        if principal.is_api_key
        else principal.org_role in rights["org_roles"]
    )
    if not allowed:
        raise Forbidden()
    return principal


def _principal_from_claims(claims: dict) -> Principal:
    roles = claims.get("roles") or []
    org_role = claims.get("org_role")
    try:
        org_id = uuid.UUID(str(claims["org_id"])) if claims.get("org_id") else None
    except ValueError as e:
        raise Unauthenticated("org_id claim is not an organisation id") from e
    if not isinstance(roles, list) or (org_role is not None and org_role not in ORG_ROLES):
        raise Unauthenticated("the token's role claims are not valid")
    return Principal(
        subject=str(claims.get("sub")),
        org_id=org_id,
        org_role=org_role,
        roles=frozenset(str(r) for r in roles),
    )


class _VerifiedTokens:
    """JWTs verified in the last `ttl_seconds`, by hash, with their claims (bounded)."""

    ttl_seconds = 30
    limit = 10_000

    def __init__(self) -> None:
        self._claims: dict[bytes, tuple[float, dict]] = {}

    def get(self, key: bytes) -> dict | None:
        hit = self._claims.get(key)
        return hit[1] if hit and hit[0] > time.time() else None

    def put(self, key: bytes, claims: dict) -> None:
        if len(self._claims) >= self.limit:
            self._claims.clear()
        until = min(time.time() + self.ttl_seconds, float(claims["exp"]))
        self._claims[key] = (until, claims)


def _verified_claims(token: str) -> dict:
    cache = current_app.extensions.setdefault("ledger_verified_tokens", _VerifiedTokens())
    key = hashlib.sha256(token.encode()).digest()
    claims = cache.get(key)
    if claims is None:
        claims = _decode_jwt(token)
        cache.put(key, claims)
    return claims


def _decode_jwt(token: str) -> dict:
    config = current_app.config
    try:
        header = extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError) as e:
        raise Unauthenticated("the token is not valid") from e
    try:
        if header.get("alg") == "HS256":
            if not config.get("JWT_SECRET"):
                raise Unauthenticated("HS256 tokens are not accepted here")
            decoded = jwt.decode(
                token, OctKey.import_key(config["JWT_SECRET"]), algorithms=["HS256"]
            )
        elif config.get("JWT_JWKS_URL"):
            decoded = jwt.decode(
                token,
                _jwks.key_set(config["JWT_JWKS_URL"], header.get("kid")),
                algorithms=["RS256", "ES256"],
            )
        else:
            raise Unauthenticated("asymmetric tokens need JWT_JWKS_URL")
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": config["JWT_ISSUER"]},
            aud={"essential": True, "value": config["JWT_AUDIENCE"]},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError, requests.RequestException) as e:
        raise Unauthenticated("the token is not valid") from e
    return decoded.claims


class _JwksCache:
    """The identity provider's keys, refreshed every 10 minutes or on an unknown kid.

    A token whose kid is known never waits for a fetch: a stale set is refreshed by one
    thread while the others keep using it. Unknown kids trigger at most one fetch per
    `refetch_seconds`, so random kids cannot turn every request into a fetch.
    """

    ttl_seconds = 600
    refetch_seconds = 30

    def __init__(self) -> None:
        self._fetching = threading.Lock()
        self._url: str | None = None
        self._keys: KeySet | None = None
        self._fetched = float("-inf")

    def key_set(self, url: str, kid: str | None) -> KeySet:
        keys = self._keys if self._url == url else None
        if keys is None:
            with self._fetching:  # nothing to serve yet: wait for the first fetch
                if self._url != url or self._keys is None:
                    return self._fetch(url)
                return self._keys
        age = time.monotonic() - self._fetched
        known = kid is None or any(k.kid == kid for k in keys.keys)
        wanted = age > self.ttl_seconds or (not known and age > self.refetch_seconds)
        if wanted and self._fetching.acquire(blocking=False):
            try:
                return self._fetch(url)
            finally:
                self._fetching.release()
        return keys

    def _fetch(self, url: str) -> KeySet:
        response = requests.get(url, timeout=5)
        response.raise_for_status()
        self._keys = KeySet.import_key_set(response.json())
        self._url, self._fetched = url, time.monotonic()
        return self._keys


_jwks = _JwksCache()
