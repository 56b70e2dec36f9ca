"""Test helpers: callers with tokens, and scenario steps that go through the API (the
data they make comes from tests/factories.py)."""

from flask import Flask

from ledger.cli import mint_token
from tests.factories import ApiKeyFactory, GrantFactory, Org, OrganizationFactory, new_order_id


class Caller:
    def __init__(self, app: Flask):
        self.app = app
        self.client = app.test_client()

    # Tokens

    def token(self, *, org_id=None, role=None, roles=(), sub="user-1", ttl=3600) -> str:
        return mint_token(
            self.app.config,
            sub=sub,
            org_id=str(org_id) if org_id else None,
            org_role=role,
            roles=list(roles),
            ttl_seconds=ttl,
        )

    def auth(self, token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    @property
    def operator(self) -> dict:
        return self.auth(self.token(roles=["operator"], sub="operator-1"))

    @property
    def service(self) -> dict:
        return self.auth(self.token(roles=["service"], sub="campaign-engine"))

    def user(self, org, role="owner") -> dict:
        return self.auth(self.token(org_id=org.id, role=role, sub=f"{role}-of-{org.id}"))

    def api_key(self, org, scopes) -> tuple[str, dict]:
        key = ApiKeyFactory.create(caller=self, org=org, scopes=scopes)
        return key.id, key.headers

    # Scenario steps

    def create_org(self, currency="KRW", **fields) -> Org:
        return OrganizationFactory.create(caller=self, currency=currency, **fields)

    def grant(self, org, amount, expires_at=None, currency=None):
        return GrantFactory.create(
            caller=self, org=org, amount=amount, expires_at=expires_at, currency=currency
        )

    def deduct(self, org, amount, order_id=None, headers=None, client=None, **extra):
        body = {"order_id": order_id or new_order_id("ded"), "amount": amount, **extra}
        return (client or self.client).post(
            f"/v1/orgs/{org.id}/deductions", json=body, headers=headers or self.service
        )

    def balance(self, org, currency=None):
        query = f"?currency={currency}" if currency else ""
        r = self.client.get(f"/v1/orgs/{org.id}/balance{query}", headers=self.service)
        assert r.status_code == 200, r.json
        return r.json
