"""Test data, made the way clients make it: through the HTTP API (factory-boy).

No factory writes a table. Each one posts to the service as the operator or the
organisation's owner, so test data passes the same validation, idempotency and posting
engine as real data, and the single-writer scan (tests/unit/test_single_writer.py) and
`verify` hold for it too. What a factory returns is what the API answered.

Every factory needs the `caller` that sends its requests (`tests.helpers.Caller`):

    org = OrganizationFactory.create(caller=caller, currency="USD")
    GrantFactory.create(caller=caller, org=org, amount=5_000)
    key = ApiKeyFactory.create(caller=caller, org=org, scopes=["deductions:write"])
    topup = PaidTopupFactory.create(caller=caller, org=org, amount=30_000, gateway=fake_stripe)

Left out, `org` is a new organisation made by `OrganizationFactory` with the same caller.
Only `create` exists: there is no object to `build` without the service.
"""

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import factory
from werkzeug.test import TestResponse

if TYPE_CHECKING:
    from tests.helpers import Caller


def new_order_id(prefix: str = "ord") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def expect(response: TestResponse, status: int) -> Any:
    """The JSON body of a response that must have answered `status`."""
    assert response.status_code == status, response.json
    return response.json


@dataclass
class Org:
    id: str
    currency: str


@dataclass(frozen=True)
class ApiKey:
    id: str
    key: str  # the secret, shown once

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class _ThroughApi(factory.Factory):
    """A factory whose `create` sends requests as `caller` (subclasses say which)."""

    class Meta:
        abstract = True

    caller = None

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{cls.__name__} makes its data through the API: call it, do not build")

    @classmethod
    def _create(cls, model_class: type, *args: Any, caller: "Caller | None", **kwargs: Any) -> Any:
        if caller is None:
            raise TypeError(f"{cls.__name__} needs caller= (the Caller that sends its requests)")
        return cls._post(caller, **kwargs)

    @classmethod
    def _post(cls, caller: "Caller", *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def _same_caller() -> Any:
    """A related object made through the same caller as the one that needs it."""
    return factory.SelfAttribute("..caller")


class OrganizationFactory(_ThroughApi):
    """`POST /v1/orgs` as the operator; a KRW organisation unless told."""

    class Meta:
        model = Org

    name = factory.Sequence(lambda n: f"Acme Ads {n}")
    billing_email = "billing@example.com"
    currency = "KRW"

    @classmethod
    def _post(cls, caller: "Caller", *, name: str, billing_email: str, currency: str) -> Org:
        body = {"name": name, "billing_email": billing_email, "currency": currency}
        created = expect(caller.client.post("/v1/orgs", json=body, headers=caller.operator), 201)
        return Org(created["id"], currency)


class GrantFactory(_ThroughApi):
    """`POST /v1/admin/orgs/{id}/grants` as the operator: bonus credit; returns the grant."""

    class Meta:
        model = dict

    org = factory.SubFactory(OrganizationFactory, caller=_same_caller())
    order_id = factory.LazyFunction(lambda: new_order_id("grant"))
    amount = 10_000
    reason = "test credit"
    expires_at = None  # a datetime: the lot expires then
    currency = None  # the organisation's

    @classmethod
    def _post(cls, caller: "Caller", *, org: Org, expires_at: Any, **fields: Any) -> Any:
        body = {name: value for name, value in fields.items() if value is not None}
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        r = caller.client.post(
            f"/v1/admin/orgs/{org.id}/grants", json=body, headers=caller.operator
        )
        return expect(r, 201)


class ApiKeyFactory(_ThroughApi):
    """`POST /v1/orgs/{id}/api-keys` as the organisation's owner."""

    class Meta:
        model = ApiKey

    org = factory.SubFactory(OrganizationFactory, caller=_same_caller())
    name = "k"
    scopes = ("deductions:write",)

    @classmethod
    def _post(cls, caller: "Caller", *, org: Org, name: str, scopes: Any) -> ApiKey:
        r = caller.client.post(
            f"/v1/orgs/{org.id}/api-keys",
            json={"name": name, "scopes": list(scopes)},
            headers=caller.user(org, "owner"),
        )
        created = expect(r, 201)
        return ApiKey(created["id"], created["key"])


class PaidTopupFactory(_ThroughApi):
    """A top-up started through the API, paid at the gateway fake (`gateway`: the
    `fake_stripe` or `portone` fixture) and credited through `/confirm`; returns the top-up.
    """

    class Meta:
        model = dict

    org = factory.SubFactory(OrganizationFactory, caller=_same_caller())
    order_id = factory.LazyFunction(lambda: new_order_id("top"))
    amount = 50_000
    provider = "stripe"
    gateway = None

    @classmethod
    def _post(
        cls, caller: "Caller", *, org: Org, order_id: str, amount: int, provider: str, gateway: Any
    ) -> Any:
        body = {"order_id": order_id, "amount": amount, "provider": provider}
        started = expect(
            caller.client.post(f"/v1/orgs/{org.id}/topups", json=body, headers=caller.user(org)),
            201,
        )
        if provider == "stripe":
            gateway.succeed_payment(started["stripe"]["payment_intent_id"])
        else:
            gateway.pay(started["portone"]["payment_id"], amount)
        r = caller.client.post(
            f"/v1/orgs/{org.id}/topups/{started['id']}/confirm", headers=caller.user(org)
        )
        paid = expect(r, 200)
        assert paid["status"] == "paid", paid
        return paid
