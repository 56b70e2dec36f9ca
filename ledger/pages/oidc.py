"""Operators sign in to the console through the identity provider (OpenID Connect).

Authorization code flow with PKCE (S256) through Authlib's Flask client, configured by
OIDC_ISSUER (its discovery document), OIDC_CLIENT_ID and OIDC_CLIENT_SECRET. Authlib
checks the ID token's signature (the provider's JWKS), issuer, audience, expiry and
nonce; we then require `operator` in its `roles` claim. Between the redirect and the
callback, Authlib keeps state, nonce and the PKCE verifier in Flask's signed cookie.
"""

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from ledger.errors import Forbidden, LedgerError

EXTENSION = "ledger_oidc"


class SignInFailed(LedgerError):
    """The identity provider's answer could not be verified (state, code, token)."""

    code = "sign_in_failed"
    http_status = 400
    message = "the sign-in could not be completed: try again"


def init_app(app: Flask) -> None:
    """One OAuth registry per app, so each app talks to its own provider."""
    if not app.config.get("OIDC_ISSUER"):
        return
    oauth = OAuth(app)
    oauth.register(
        "idp",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"].rstrip("/")
        + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
    )
    app.extensions[EXTENSION] = oauth


def is_configured() -> bool:
    return EXTENSION in current_app.extensions


def redirect_to_provider(callback_url: str):
    return current_app.extensions[EXTENSION].idp.authorize_redirect(callback_url)


def operator_from_callback() -> str:
    """The signed-in operator's subject, from the provider's answer on the callback.

    Raises:
        SignInFailed: the answer does not verify.
        Forbidden: the user is not an operator.
    """
    try:
        token = current_app.extensions[EXTENSION].idp.authorize_access_token()
    except (OAuthError, ValueError) as e:
        raise SignInFailed() from e
    claims = token.get("userinfo") or {}
    roles = claims.get("roles")
    if not isinstance(roles, list) or "operator" not in roles:
        raise Forbidden("only operators may use the console")
    return str(claims["sub"])
