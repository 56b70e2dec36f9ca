"""Bounded under junk: metric labels do not grow with invented methods and paths, and
the JWKS is not refetched for every unknown kid nor waited for by known ones."""

import threading
import time
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from ledger.api import auth
from tests.fakes.jwks import FakeJwks


def series(client) -> set[str]:
    text = client.get("/metrics").get_data(as_text=True)
    return {line.split(" ")[0] for line in text.splitlines() if line.startswith("ledger_http")}


def test_junk_requests_do_not_grow_metrics(client):
    for i in range(10):
        client.open(f"/junk-{i}", method=f"JUNK{i}")
    client.get("/v1/nothing-here")
    series(client)  # the first read of /metrics adds its own series
    before = series(client)
    for _ in range(3_000):
        junk = uuid.uuid4().hex
        client.open(f"/{junk}/{junk}", method=junk[:10].upper())
    after = series(client)
    assert after == before
    assert any('method="other"' in s and 'route="unmatched"' in s for s in after)


@pytest.fixture
def identity_provider():
    key = RSAKey.generate_key(2048, parameters={"kid": "known"})
    with FakeJwks([key]) as jwks:
        yield jwks, key


def token(key, kid, org):
    now = int(time.time())
    claims = {"sub": "u", "iss": "ledger-dev", "aud": "ledger-api", "exp": now + 60}
    claims |= {"org_id": org.id, "org_role": "viewer"}
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


@pytest.fixture
def jwks_app(app, identity_provider, monkeypatch):
    jwks, _ = identity_provider
    monkeypatch.setitem(app.config, "JWT_JWKS_URL", jwks.url)
    monkeypatch.setattr(auth, "_jwks", auth._JwksCache())
    return app


def test_unknown_kids_do_not_refetch_every_time(jwks_app, caller, org, identity_provider):
    jwks, key = identity_provider
    path = f"/v1/orgs/{org.id}/balance"
    assert caller.client.get(path, headers=caller.auth(token(key, "known", org))).status_code == 200
    for i in range(20):
        r = caller.client.get(path, headers=caller.auth(token(key, f"random-{i}", org)))
        assert r.status_code == 401
    assert jwks.fetches == 1


def test_known_kids_do_not_wait_behind_a_refetch(jwks_app, caller, org, identity_provider):
    jwks, key = identity_provider
    path = f"/v1/orgs/{org.id}/balance"
    assert caller.client.get(path, headers=caller.auth(token(key, "known", org))).status_code == 200
    auth._jwks._fetched -= auth._JwksCache.refetch_seconds + 1  # an unknown kid may refetch
    jwks.hold = threading.Event()
    unknown = threading.Thread(
        target=lambda: jwks_app.test_client().get(
            path, headers=caller.auth(token(key, "rotated", org))
        )
    )
    unknown.start()
    assert jwks.holding.wait(30)  # the refetch is under way, and stuck
    r = caller.client.get(path, headers=caller.auth(token(key, "known", org)))
    assert r.status_code == 200
    jwks.hold.set()
    unknown.join(30)
    assert jwks.fetches == 2
