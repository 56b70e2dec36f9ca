"""RS256 and ES256 tokens checked against a JWKS document served locally."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey


@pytest.fixture(scope="module")
def identity_provider():
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    document = json.dumps(KeySet([rsa, ec]).as_dict(private=False)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", rsa, ec
    server.shutdown()
    server.server_close()


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
