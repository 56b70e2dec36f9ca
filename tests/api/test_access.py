"""The 401/403/404 rules on every organisation-scoped route."""

import uuid

import pytest

ORG_ROUTES = [
    ("GET", "/v1/orgs/{org}", None),
    ("GET", "/v1/orgs/{org}/balance", None),
    ("GET", "/v1/orgs/{org}/transactions", None),
    ("POST", "/v1/orgs/{org}/deductions", {"order_id": "acc-1", "amount": 1}),
    ("POST", "/v1/orgs/{org}/deductions/1/reversals", {"order_id": "acc-2"}),
    ("GET", "/v1/orgs/{org}/api-keys", None),
    ("POST", "/v1/orgs/{org}/api-keys", {"name": "k", "scopes": ["credits:read"]}),
    ("DELETE", f"/v1/orgs/{{org}}/api-keys/{uuid.uuid4()}", None),
]


def send(caller, method, path, body, headers):
    return caller.client.open(path, method=method, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "body"), ORG_ROUTES)
def test_no_token_is_401(caller, org, method, path, body):
    r = send(caller, method, path.format(org=org.id), body, None)
    assert r.status_code == 401
    assert r.json["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(("method", "path", "body"), ORG_ROUTES)
def test_another_organisations_user_gets_404(caller, org, method, path, body):
    other = caller.create_org()
    r = send(caller, method, path.format(org=org.id), body, caller.user(other, "owner"))
    assert r.status_code == 404
    assert r.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "body"), ORG_ROUTES)
def test_an_unknown_organisation_is_404_even_for_operators(caller, method, path, body):
    r = send(caller, method, path.format(org=uuid.uuid4()), body, caller.operator)
    assert r.status_code == 404


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_users_may_not_deduct(caller, org, role):
    r = caller.deduct(org, 1, headers=caller.user(org, role))
    assert r.status_code == 403
    assert r.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_user_of_the_organisation_may_read(caller, org, role):
    r = caller.client.get(f"/v1/orgs/{org.id}/balance", headers=caller.user(org, role))
    assert r.status_code == 200


def test_bad_tokens_are_401(caller, org):
    expired = caller.token(org_id=org.id, role="owner", ttl=-10)
    for token in ("garbage", expired, "lk_not-a-key", caller.token(roles=["operator"]) + "x"):
        r = caller.client.get(f"/v1/orgs/{org.id}/balance", headers=caller.auth(token))
        assert r.status_code == 401, token


def test_wrong_issuer_or_audience_is_401(app, caller, org):
    from ledger.cli import mint_token

    for override in ({"JWT_ISSUER": "someone-else"}, {"JWT_AUDIENCE": "other-api"}):
        token = mint_token({**app.config, **override}, sub="u", org_id=org.id, org_role="owner")
        r = caller.client.get(f"/v1/orgs/{org.id}/balance", headers=caller.auth(token))
        assert r.status_code == 401


def test_only_operators_create_organisations_grant_and_report(caller, org):
    owner = caller.user(org, "owner")
    body = {"name": "x", "billing_email": "x@example.com", "currency": "KRW"}
    assert caller.client.post("/v1/orgs", json=body, headers=owner).status_code == 403
    assert caller.client.post("/v1/orgs", json=body, headers=caller.service).status_code == 403
    grant = {"order_id": "g", "amount": 5, "reason": "r"}
    assert (
        caller.client.post(f"/v1/admin/orgs/{org.id}/grants", json=grant, headers=owner).status_code
        == 403
    )
    assert caller.client.get("/v1/admin/ledger/trial-balance", headers=owner).status_code == 403
    assert (
        caller.client.get("/v1/admin/ledger/trial-balance", headers=caller.operator).status_code
        == 200
    )


def test_api_key_scopes_revocation_and_tenancy(caller, org):
    caller.grant(org, 100)
    read_id, read_key = caller.api_key(org, ["credits:read"])
    _, deduct_key = caller.api_key(org, ["credits:deduct"])

    assert caller.client.get(f"/v1/orgs/{org.id}/balance", headers=read_key).status_code == 200
    assert caller.deduct(org, 1, headers=read_key).status_code == 403
    assert caller.deduct(org, 1, headers=deduct_key).status_code == 201

    other = caller.create_org()
    assert caller.client.get(f"/v1/orgs/{other.id}/balance", headers=read_key).status_code == 404
    assert caller.deduct(other, 1, headers=deduct_key).status_code == 404

    r = caller.client.delete(
        f"/v1/orgs/{org.id}/api-keys/{read_id}", headers=caller.user(org, "admin")
    )
    assert r.status_code == 204
    assert caller.client.get(f"/v1/orgs/{org.id}/balance", headers=read_key).status_code == 401


def test_api_keys_are_listed_without_secrets_and_only_by_owners_and_admins(caller, org):
    _, key_headers = caller.api_key(org, ["credits:read"])
    listed = caller.client.get(f"/v1/orgs/{org.id}/api-keys", headers=caller.user(org, "admin"))
    assert listed.status_code == 200
    secret = key_headers["Authorization"].split()[1]
    assert secret not in listed.get_data(as_text=True)
    assert {"id", "name", "prefix", "scopes"} <= set(listed.json["data"][0])
    assert listed.json["next_cursor"] is None
    assert (
        caller.client.get(
            f"/v1/orgs/{org.id}/api-keys", headers=caller.user(org, "member")
        ).status_code
        == 403
    )
    assert caller.client.get(f"/v1/orgs/{org.id}/api-keys", headers=key_headers).status_code == 403
