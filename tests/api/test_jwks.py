"""RS256 and ES256 tokens checked against a JWKS document served locally."""

import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.fakes.jwks import FakeJwks


@pytest.fixture(scope="module")
def identity_provider():
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    with FakeJwks([rsa, ec]) as jwks:
        yield jwks.url, rsa, ec


def sign(key, alg, org, issuer="ledger-dev", audience="ledger-api"):
    now = int(time.time())
    claims = {
        "sub": "idp-user",
        "iss": issuer,
        "aud": audience,
        "exp": now + 60,
        "org_id": org.id,
        "org_role": "viewer",
    }
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def test_rs256_and_es256_tokens_from_the_identity_provider(app, caller, org, identity_provider):
    url, rsa, ec = identity_provider
    app.config["JWT_JWKS_URL"] = url
    try:
        for key, alg in ((rsa, "RS256"), (ec, "ES256")):
            r = caller.client.get(
                f"/v1/orgs/{org.id}/balance", headers=caller.auth(sign(key, alg, org))
            )
            assert r.status_code == 200, alg
        stranger = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
        r = caller.client.get(
            f"/v1/orgs/{org.id}/balance", headers=caller.auth(sign(stranger, "RS256", org))
        )
        assert r.status_code == 401
        wrong_aud = sign(rsa, "RS256", org, audience="elsewhere")
        assert (
            caller.client.get(
                f"/v1/orgs/{org.id}/balance", headers=caller.auth(wrong_aud)
            ).status_code
            == 401
        )
    finally:
        app.config["JWT_JWKS_URL"] = None
