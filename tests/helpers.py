"""Test helpers: callers with tokens, and scenario steps that go through the API."""

import uuid
from dataclasses import dataclass

from flask import Flask

from ledger.cli import mint_token


def new_order_id(prefix: str = "ord") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@dataclass
class Org:
    id: str
    currency: str


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
        r = self.client.post(
            f"/v1/orgs/{org.id}/api-keys",
            json={"name": "k", "scopes": list(scopes)},
            headers=self.user(org, "owner"),
        )
        assert r.status_code == 201, r.json
        return r.json["id"], self.auth(r.json["key"])

    # Scenario steps

    def create_org(self, currency="KRW", name="Acme Ads") -> Org:
        r = self.client.post(
            "/v1/orgs",
            json={"name": name, "billing_email": "billing@example.com", "currency": currency},
            headers=self.operator,
        )
        assert r.status_code == 201, r.json
        return Org(r.json["id"], currency)

    def grant(self, org, amount, expires_at=None, currency=None):
        body = {"order_id": new_order_id("grant"), "amount": amount, "reason": "test credit"}
        if expires_at:
            body["expires_at"] = expires_at.isoformat()
        if currency:
            body["currency"] = currency
        r = self.client.post(f"/v1/admin/orgs/{org.id}/grants", json=body, headers=self.operator)
        assert r.status_code == 201, r.json
        return r.json

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
