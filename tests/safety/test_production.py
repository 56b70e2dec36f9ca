"""LEDGER_ENV=production: no start without identity settings, and no development default
(the JWT secret or the webhook secrets printed in config.py) opens any door."""

import json
import os
import subprocess
import sys

import pytest
import stripe
from sqlalchemy import text

from config import DEVELOPMENT_DEFAULTS, Config
from ledger.app import create_app
from ledger.cli import mint_token
from ledger.extensions import db
from ledger.settings import UnsafeConfiguration
from tests.fakes.portone import sign_webhook
from tests.server import ROOT

UNSET = dict.fromkeys(DEVELOPMENT_DEFAULTS)


def production_config(database_url, **settings):
    return type(
        "ProductionConfig",
        (Config,),
        {
            **UNSET,
            "LEDGER_ENV": "production",
            "SQLALCHEMY_DATABASE_URI": database_url,
            **settings,
        },
    )


def test_production_refuses_to_start_without_identity_settings(database_url):
    with pytest.raises(UnsafeConfiguration, match="JWT_SECRET or JWT_JWKS_URL"):
        create_app(production_config(database_url))


def test_production_process_exits_non_zero_with_a_clear_message():
    env = {k: v for k, v in os.environ.items() if k not in DEVELOPMENT_DEFAULTS}
    env.update(LEDGER_ENV="production", JWT_SECRET="", JWT_JWKS_URL="")
    done = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert done.returncode != 0
    assert b"LEDGER_ENV=production needs JWT_SECRET or JWT_JWKS_URL" in done.stderr


def test_an_unknown_environment_refuses_to_start(database_url):
    with pytest.raises(UnsafeConfiguration, match="LEDGER_ENV"):
        create_app(production_config(database_url, LEDGER_ENV="staging"))


def test_console_sign_in_needs_its_own_secret_key_in_production(database_url):
    settings = {"JWT_SECRET": "a-real-secret", "OIDC_ISSUER": "http://127.0.0.1:9/idp"}
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app(production_config(database_url, **settings))


@pytest.fixture
def production(app, database_url):
    """Production with an identity provider and no secrets: the reviewer's setup."""
    prod = create_app(
        production_config(database_url, JWT_JWKS_URL="http://127.0.0.1:9/.well-known/jwks.json")
    )
    yield prod
    with prod.app_context():
        db.engine.dispose()


def counts(app):
    with app.app_context():
        return {
            table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for table in ("organizations", "journal_entries", "webhook_events", "topups")
        }


def test_no_secret_falls_back_to_a_development_default(production):
    assert all(production.config[name] is None for name in DEVELOPMENT_DEFAULTS)


def test_forged_hs256_token_with_the_development_secret_is_refused(production, caller, org):
    forged_config = {**production.config, "JWT_SECRET": DEVELOPMENT_DEFAULTS["JWT_SECRET"]}
    forged = mint_token(forged_config, sub="attacker", roles=["operator"])
    headers = {"Authorization": f"Bearer {forged}"}
    client = production.test_client()
    before = counts(production)

    created = client.post(
        "/v1/orgs",
        json={"name": "Evil", "billing_email": "x@example.com", "currency": "KRW"},
        headers=headers,
    )
    granted = client.post(
        f"/v1/admin/orgs/{org.id}/grants",
        json={"order_id": "forged-1", "amount": 10**12, "reason": "free money"},
        headers=headers,
    )

    assert created.status_code == 401
    assert created.headers["WWW-Authenticate"] == "Bearer"
    assert granted.status_code == 401
    assert counts(production) == before
    assert caller.balance(org)["available"] == 0


def test_webhooks_signed_with_the_default_secrets_are_refused(production):
    client = production.test_client()
    before = counts(production)
    stripe_body = json.dumps(
        {"id": "evt_forged", "object": "event", "type": "payment_intent.succeeded", "data": {}}
    ).encode()
    stripe_answer = client.post(
        "/v1/webhooks/stripe",
        data=stripe_body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                stripe_body.decode(), DEVELOPMENT_DEFAULTS["STRIPE_WEBHOOK_SECRET"]
            ),
        },
    )
    portone_body = json.dumps({"type": "Transaction.Paid", "data": {"paymentId": "p"}}).encode()
    portone_answer = client.post(
        "/v1/webhooks/portone",
        data=portone_body,
        headers={
            "Content-Type": "application/json",
            **sign_webhook(portone_body, secrets=[DEVELOPMENT_DEFAULTS["PORTONE_WEBHOOK_SECRET"]]),
        },
    )
    assert stripe_answer.status_code == 400
    assert stripe_answer.json["error"]["code"] == "invalid_signature"
    assert portone_answer.status_code == 400
    assert portone_answer.json["error"]["code"] == "invalid_signature"
    assert counts(production) == before


def test_a_gateway_without_keys_is_off_for_top_ups(production, org):
    production.config["JWT_SECRET"] = "an-operator-chosen-secret"  # HS256 on, keys still unset
    try:
        owner = mint_token(production.config, sub="owner", org_id=org.id, org_role="owner")
        before = counts(production)
        for provider in ("stripe", "portone"):
            r = production.test_client().post(
                f"/v1/orgs/{org.id}/topups",
                json={"order_id": f"top-{provider}", "amount": 10000, "provider": provider},
                headers={"Authorization": f"Bearer {owner}"},
            )
            assert r.status_code == 422, r.json
            assert r.json["error"]["code"] == "provider_unavailable"
        assert counts(production) == before
    finally:
        production.config["JWT_SECRET"] = None


def test_development_says_which_defaults_it_uses(database_url, caplog):
    dev = type("DevConfig", (Config,), {**UNSET, "SQLALCHEMY_DATABASE_URI": database_url})
    with caplog.at_level("WARNING", logger="ledger.settings"):
        app = create_app(dev)
    assert app.config["JWT_SECRET"] == DEVELOPMENT_DEFAULTS["JWT_SECRET"]
    assert "JWT_SECRET" in caplog.text
    assert "STRIPE_WEBHOOK_SECRET" in caplog.text


def test_no_development_tokens_without_a_secret(production):
    result = production.test_cli_runner().invoke(args=["ledger", "token", "--operator"])
    assert result.exit_code != 0
    assert result.output.strip().startswith("Error: JWT_SECRET is not set")
