"""POST .../portal-sessions: who may open an organisation's portal, and what they get."""

from datetime import UTC, datetime, timedelta

import pytest


def _open(caller, org, headers, **body):
    return caller.client.post(f"/v1/orgs/{org.id}/portal-sessions", json=body, headers=headers)


@pytest.mark.parametrize("who", ["owner", "admin", "operator", "service"])
def test_owners_admins_operators_and_services_open_a_portal_session(caller, org, who):
    headers = {"operator": caller.operator, "service": caller.service}.get(who) or caller.user(
        org, who
    )
    r = _open(caller, org, headers)
    assert r.status_code == 201, r.json
    assert r.json["url"].startswith("http://127.0.0.1:5000/portal/sign-in/")
    expires_at = datetime.fromisoformat(r.json["expires_at"])
    assert timedelta(minutes=9) < expires_at - datetime.now(UTC) <= timedelta(minutes=10)


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_may_not(caller, org, role):
    assert _open(caller, org, caller.user(org, role)).status_code == 403


def test_another_organisations_owner_gets_404(caller, org):
    other = caller.create_org()
    r = _open(caller, org, caller.user(other, "owner"))
    assert r.status_code == 404
    assert r.json["error"]["code"] == "not_found"


def test_keys_and_anonymous_callers_may_not(caller, org):
    _, key = caller.api_key(org, ["credits:read", "credits:deduct", "topups:write"])
    assert _open(caller, org, key).status_code == 403
    assert _open(caller, org, {}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"role": "owner"}, {"return_url": "javascript:alert(1)"}, {"return_url": "ftp://x"}, {"x": 1}],
)
def test_bad_bodies_are_422(caller, org, body):
    r = _open(caller, org, caller.user(org, "owner"), **body)
    assert r.status_code == 422
    assert r.json["error"]["code"] == "validation_error"


def test_each_link_is_new(caller, org):
    first = _open(caller, org, caller.operator).json["url"]
    second = _open(caller, org, caller.operator).json["url"]
    assert first != second
