"""Configuration, read from the environment (a `.env` file is optional).

This is the only module that reads `os.environ`. Secrets have no default here: the
development ones in DEVELOPMENT_DEFAULTS are filled in by `ledger/settings.py` only when
LEDGER_ENV is `development`, so production never runs on a key anyone can read here.
"""

import os
from typing import overload

from dotenv import load_dotenv

load_dotenv()


@overload
def _env(name: str) -> str | None: ...
@overload
def _env(name: str, default: str) -> str: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _amount_limits(value: str) -> dict[str, tuple[int, int]]:
    """`KRW:1000:99999999,USD:50:99999999` -> {currency: (minimum, maximum)} in minor units."""
    limits = {}
    for item in value.split(","):
        currency, minimum, maximum = item.strip().split(":")
        limits[currency.upper()] = (int(minimum), int(maximum))
    return limits


# Applied only in development (and said so in the log at start); never in production.
DEVELOPMENT_DEFAULTS = {
    "JWT_SECRET": "dev-insecure-jwt-secret-change-me",
    "STRIPE_SECRET_KEY": "sk_test_dev",
    "STRIPE_WEBHOOK_SECRET": "whsec_dev",
    "PORTONE_API_SECRET": "portone-dev-secret",
    "PORTONE_WEBHOOK_SECRET": "whsec_ZGV2LXBvcnRvbmUtc2VjcmV0",
    "PORTONE_STORE_ID": "store-dev",
    "PORTONE_CHANNEL_KEY": "channel-key-dev",
    "SECRET_KEY": "dev-insecure-secret-key-change-me",
}


class Config:
    LEDGER_ENV = _env("LEDGER_ENV", "development")
    # None means: start the embedded PostgreSQL kept under instance/.
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_size": int(_env("DB_POOL_SIZE", "10")),
        "max_overflow": int(_env("DB_MAX_OVERFLOW", "10")),
    }
    EMBEDDED_DB_DIR = _env("EMBEDDED_DB_DIR")  # default: <instance>/pg
    # Longest wait for a row lock, for any one statement (0: none, for long maintenance
    # commands), and for a free pooled connection; then `503 busy`.
    DB_LOCK_TIMEOUT_MS = int(_env("DB_LOCK_TIMEOUT_MS", "3000"))
    DB_STATEMENT_TIMEOUT_MS = int(_env("DB_STATEMENT_TIMEOUT_MS", "30000"))
    DB_POOL_TIMEOUT_SECONDS = float(_env("DB_POOL_TIMEOUT_SECONDS", "3"))
    MAX_BODY_BYTES = int(_env("MAX_BODY_BYTES", str(1024 * 1024)))
    # gunicorn: a client silent this long mid-request loses its connection (and thread).
    CLIENT_READ_TIMEOUT_SECONDS = int(_env("CLIENT_READ_TIMEOUT_SECONDS", "10"))

    JWT_SECRET = _env("JWT_SECRET")
    JWT_JWKS_URL = _env("JWT_JWKS_URL")
    JWT_ISSUER = _env("JWT_ISSUER", "ledger-dev")
    JWT_AUDIENCE = _env("JWT_AUDIENCE", "ledger-api")

    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE", "https://api.stripe.com")

    # The SDK retries timeouts, 409s, 429s, 5xx and whatever `Stripe-Should-Retry: true`
    # names, with the same idempotency key.
    STRIPE_MAX_NETWORK_RETRIES = int(_env("STRIPE_MAX_NETWORK_RETRIES", "2"))
    # Checked before Stripe is called. Stripe's minimum is "$0.50 US or equivalent in charge
    # currency" (for KRW the settlement currency's minimum converted, about 700 won when
    # settling in USD, so the floor keeps a margin) and the amount "supports up to eight digits".
    STRIPE_AMOUNT_LIMITS = _amount_limits(
        _env("STRIPE_AMOUNT_LIMITS", "KRW:1000:99999999,USD:50:99999999")
    )

    PORTONE_API_SECRET = _env("PORTONE_API_SECRET")
    PORTONE_WEBHOOK_SECRET = _env("PORTONE_WEBHOOK_SECRET")
    PORTONE_STORE_ID = _env("PORTONE_STORE_ID")
    PORTONE_CHANNEL_KEY = _env("PORTONE_CHANNEL_KEY")
    PORTONE_API_BASE = _env("PORTONE_API_BASE", "https://api.portone.io")
    # KG Inicis card payments under 1,000 won fail unless its `below1000` option is on;
    # PortOne documents no ceiling, so the contract's largest amount stands.
    PORTONE_AMOUNT_LIMITS = _amount_limits(_env("PORTONE_AMOUNT_LIMITS", "KRW:1000:1000000000000"))

    # Set under gunicorn: each worker writes its metrics there, and /metrics adds them up.
    PROMETHEUS_MULTIPROC_DIR = _env("PROMETHEUS_MULTIPROC_DIR")

    # Pages (/console/, /portal/): links printed or sent start with PUBLIC_BASE_URL.
    PORT = int(_env("PORT", "5000"))
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}")
    OIDC_ISSUER = _env("OIDC_ISSUER")
    OIDC_CLIENT_ID = _env("OIDC_CLIENT_ID")
    OIDC_CLIENT_SECRET = _env("OIDC_CLIENT_SECRET")
    PORTONE_BROWSER_SDK_URL = _env(
        "PORTONE_BROWSER_SDK_URL", "https://cdn.portone.io/v2/browser-sdk.js"
    )
    # Stripe Checkout sends the customer back to the portal (Stripe fills in the session id).
    STRIPE_CHECKOUT_SUCCESS_URL = _env(
        "STRIPE_CHECKOUT_SUCCESS_URL",
        f"{PUBLIC_BASE_URL}/portal/checkout/success?session_id={{CHECKOUT_SESSION_ID}}",
    )
    STRIPE_CHECKOUT_CANCEL_URL = _env(
        "STRIPE_CHECKOUT_CANCEL_URL", f"{PUBLIC_BASE_URL}/portal/checkout/canceled"
    )
    # On only under `make demo` (python -m sandbox): local stand-ins for Stripe and PortOne.
    SANDBOX = False
    # Signs the short-lived cookie that carries an OpenID sign-in's state, nonce and PKCE
    # verifier between the redirect and the callback.
    SECRET_KEY = _env("SECRET_KEY")
    PAGES_COOKIE_SECURE = LEDGER_ENV == "production"
    SESSION_COOKIE_SECURE = PAGES_COOKIE_SECURE
    SESSION_COOKIE_SAMESITE = "Lax"

    GATEWAY_TIMEOUT_SECONDS = float(_env("GATEWAY_TIMEOUT_SECONDS", "10"))
    REFUND_WINDOW_DAYS = int(_env("REFUND_WINDOW_DAYS", "7"))
    HOLD_DEFAULT_TTL_HOURS = int(_env("HOLD_DEFAULT_TTL_HOURS", "168"))

    # Events out (webhooks to the platform).
    EVENT_RETRY_BASE_SECONDS = float(_env("EVENT_RETRY_BASE_SECONDS", "30"))
    EVENT_DELIVERY_TIMEOUT_SECONDS = float(_env("EVENT_DELIVERY_TIMEOUT_SECONDS", "10"))
    # How often an idle `deliver-events` worker looks for due deliveries.
    EVENT_POLL_SECONDS = float(_env("EVENT_POLL_SECONDS", "1"))
    LOT_EXPIRY_WARNING_DAYS = int(_env("LOT_EXPIRY_WARNING_DAYS", "7"))
    # `make run` sets it: gunicorn starts a `deliver-events` worker beside itself.
    DELIVER_EVENTS_WITH_GUNICORN = _env("DELIVER_EVENTS_WITH_GUNICORN") == "1"

    API_TITLE = "Prepaid credit ledger"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Swagger UI's files come from the swagger-ui-bundle package, served by us: no CDN.
    OPENAPI_SWAGGER_UI_URL = "/docs/static/"
    JSON_SORT_KEYS = False


class TestConfig(Config):
    TESTING = True
    # Nothing listens there: a test that forgot its gateway fake fails at once, locally,
    # instead of reaching for the real gateway.
    STRIPE_API_BASE = "http://127.0.0.1:9"
    PORTONE_API_BASE = "http://127.0.0.1:9"
    JWT_SECRET = "test-jwt-secret"
    STRIPE_SECRET_KEY = "sk_test_fake"
    STRIPE_WEBHOOK_SECRET = "whsec_test_stripe_secret"
    # Fault tests count the calls the fake sees; the SDK's own retries would blur that.
    STRIPE_MAX_NETWORK_RETRIES = 0
    PORTONE_API_SECRET = "portone-test-secret"
    PORTONE_WEBHOOK_SECRET = "whsec_dGVzdC1wb3J0b25lLXdlYmhvb2stc2VjcmV0"
    PORTONE_STORE_ID = "store-test"
    PORTONE_CHANNEL_KEY = "channel-key-test"
    GATEWAY_TIMEOUT_SECONDS = 2.0
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": 30, "max_overflow": 30}
    # Concurrency tests pile 16 threads onto one wallet on a shared 2-core machine and
    # assert exact outcomes; tests/safety/test_busy.py checks the 503 with its own short one.
    DB_LOCK_TIMEOUT_MS = 30_000
