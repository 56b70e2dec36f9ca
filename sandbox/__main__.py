"""`make demo` (python -m sandbox): the service with stand-ins for Stripe and PortOne.

Starts the stand-ins on free local ports, makes a fresh `ledger_sandbox` database on
the embedded PostgreSQL (DATABASE_URL is ignored: the demo never touches a real
database), seeds the demo organisation, prints a console link and a portal link, and
serves on 127.0.0.1:$PORT until interrupted. Enter prints fresh links (they are good
once, for 10 minutes). Refuses to run when LEDGER_ENV=production.
"""

import sys
import threading
from pathlib import Path

import flask_migrate
import psycopg
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from config import Config
from ledger.app import create_app
from ledger.embedded_db import embedded_database_url
from ledger.pages.links import sign_in_url
from ledger.services.page_sessions import create_sign_in_link
from sandbox.portone_api import FakePortOne
from sandbox.portone_sdk import PortOneSdk
from sandbox.seed import Demo, seed
from sandbox.stripe_checkout import CheckoutPages, SandboxStripe

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "ledger_sandbox"

# The stand-ins' own keys: real keys in the environment never reach them.
STRIPE_KEY, STRIPE_WEBHOOK_SECRET = "sk_test_sandbox", "whsec_sandbox_stripe"
PORTONE_SECRET, PORTONE_STORE = "portone-sandbox-secret", "store-sandbox"
PORTONE_CHANNEL = "channel-key-sandbox"
PORTONE_WEBHOOK_SECRET = "whsec_c2FuZGJveC1wb3J0b25lLXdlYmhvb2s="


def fresh_database() -> str:
    """A new, empty `ledger_sandbox` database on the embedded server."""
    server = embedded_database_url(Config.EMBEDDED_DB_DIR or ROOT / "instance" / "pg")
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return make_url(server).set(database=DATABASE).render_as_string(hide_password=False)


def main() -> int:
    if Config.LEDGER_ENV == "production":
        print(
            "The sandbox refuses to run with LEDGER_ENV=production: its stand-ins accept "
            "any payment. Unset LEDGER_ENV (or set it to development) for `make demo`.",
            file=sys.stderr,
        )
        return 2
    base = Config.PUBLIC_BASE_URL
    stripe = SandboxStripe(STRIPE_KEY, STRIPE_WEBHOOK_SECRET)
    stripe.start()
    checkout = CheckoutPages(stripe, webhook_url=f"{base}/v1/webhooks/stripe").start()
    portone = FakePortOne(
        api_secret=PORTONE_SECRET,
        store_id=PORTONE_STORE,
        webhook_secret=PORTONE_WEBHOOK_SECRET,
        channel_key=PORTONE_CHANNEL,
    ).start()
    sdk = PortOneSdk(portone, webhook_url=f"{base}/v1/webhooks/portone").start()

    class SandboxConfig(Config):
        SANDBOX = True
        SQLALCHEMY_DATABASE_URI = fresh_database()
        STRIPE_SECRET_KEY = STRIPE_KEY
        STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
        STRIPE_API_BASE = stripe.url
        PORTONE_API_SECRET = PORTONE_SECRET
        PORTONE_WEBHOOK_SECRET = PORTONE_WEBHOOK_SECRET
        PORTONE_STORE_ID = PORTONE_STORE
        PORTONE_CHANNEL_KEY = PORTONE_CHANNEL
        PORTONE_API_BASE = portone.url
        PORTONE_BROWSER_SDK_URL = sdk.sdk_url

    app = create_app(SandboxConfig)
    with app.app_context():
        flask_migrate.upgrade()
        demo = seed(SandboxConfig.SQLALCHEMY_DATABASE_URI, stripe, portone)
        print_links(demo)
    server = make_server("127.0.0.1", Config.PORT, app, threaded=True)
    threading.Thread(target=links_on_enter, args=(app, demo), daemon=True).start()
    print(f"Serving {base} (Ctrl-C stops; Enter prints fresh links)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for stand_in in (sdk, portone, checkout, stripe):
            stand_in.stop()
    return 0


def print_links(demo: Demo) -> None:
    operator = create_sign_in_link(kind="operator", subject="demo-operator")
    owner = create_sign_in_link(
        kind="portal", subject="demo-owner", org_id=demo.org_id, org_role="admin"
    )
    print(
        f"\nSandbox: {demo.name} ({demo.org_id}), paying through local stand-ins.\n"
        f"  Console (operators):  {sign_in_url('operator', operator.token)}\n"
        f"  Portal ({demo.name}): {sign_in_url('portal', owner.token)}\n"
        "  Each link works once, for 10 minutes.\n",
        flush=True,
    )


def links_on_enter(app, demo: Demo) -> None:
    for _ in sys.stdin:
        with app.app_context():
            print_links(demo)


if __name__ == "__main__":
    sys.exit(main())
