"""A local OpenID provider at the HTTP boundary, for the console's sign-in tests.

It speaks just enough OpenID Connect for Authlib's Flask client: discovery, a JWKS,
an authorize endpoint that signs in the preset user at once (no login form) and
redirects back with a code, and a token endpoint that checks the client secret and the
PKCE verifier before it issues an RS256 `id_token` (signed with joserfc) carrying the
user's `roles`. Tests choose who signs in next with `sign_in_as`.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    user: dict


@dataclass
class FakeOidc:
    client_id: str
    client_secret: str
    user: dict = field(default_factory=lambda: {"sub": "op-1", "roles": ["operator"]})
    pkce_failures: int = 0

    def __post_init__(self) -> None:
        self._key = RSAKey.generate_key(2048, parameters={"kid": "fake-oidc-1", "use": "sig"})
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "FakeOidc":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sign_in_as(self, sub: str, roles: list[str]) -> None:
        """The user the next authorize request signs in."""
        self.user = {"sub": sub, "roles": roles}

    # Endpoints

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def jwks(self) -> dict:
        return {"keys": [self._key.as_dict(private=False)]}

    def authorize(self, query: dict) -> str:
        """The address to redirect the browser to: back to the client, with a code."""
        if query.get("client_id") != self.client_id or query.get("code_challenge_method") != "S256":
            raise ValueError("unknown client or no S256 PKCE challenge")
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                code_challenge=query["code_challenge"],
                nonce=query.get("nonce"),
                user=dict(self.user),
            )
        back = {"code": code, "state": query.get("state", "")}
        return f"{query['redirect_uri']}?{urlencode(back)}"

    def token(self, form: dict, authorization: str | None) -> tuple[int, dict]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        if _s256(form.get("code_verifier", "")) != grant.code_challenge:
            self.pkce_failures += 1
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            **grant.user,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self._key.kid}, claims, self._key)
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _handler_for(provider: FakeOidc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                try:
                    location = provider.authorize(dict(parse_qsl(url.query)))
                except (KeyError, ValueError) as e:
                    self._json(400, {"error": "invalid_request", "error_description": str(e)})
                    return
                self.send_response(302)
                self.send_header("Location", location)
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            self._json(*provider.token(form, self.headers.get("Authorization")))

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
