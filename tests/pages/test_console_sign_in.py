"""Operators sign in to the console: a one-use link (development) or OpenID Connect."""

import pytest


def test_a_console_link_signs_in_once(page, browser, console_link, base_url):
    link = console_link()
    assert link.startswith(f"{base_url}/console/sign-in/")

    landing = page.goto(link)
    assert page.url == f"{base_url}/console/"
    assert "default-src 'self'" in landing.headers["content-security-policy"]
    assert page.locator("h1").inner_text() == "Refund queue"
    cookie = next(c for c in page.context.cookies() if c["name"] == "ledger_console")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/console/"

    other = browser.new_context()
    try:
        reused = other.new_page().goto(link)
        assert reused.status == 403
        assert "not valid" in reused.text()
        assert not [c for c in other.cookies() if c["name"] == "ledger_console"]
    finally:
        other.close()


def test_console_link_refuses_to_run_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "LEDGER_ENV", "production")
    result = app.test_cli_runner().invoke(args=["ledger", "console-link"])
    assert result.exit_code != 0
    assert "/console/sign-in/" not in result.output
    assert "development only" in result.output


def test_without_a_session_the_console_asks_to_sign_in(page, base_url):
    page.goto(f"{base_url}/console/")
    assert page.url == f"{base_url}/console/sign-in"
    assert page.locator("h1").inner_text() == "Sign in"


def test_an_operator_signs_in_through_the_identity_provider(page, base_url, oidc_provider):
    oidc_provider.sign_in_as("operator-7", ["operator"])
    page.goto(f"{base_url}/console/")
    page.get_by_role("link", name="Sign in with your identity provider").click()
    page.wait_for_url(f"{base_url}/console/")
    assert page.locator("h1").inner_text() == "Refund queue"
    assert oidc_provider.pkce_failures == 0


@pytest.mark.parametrize("roles", [[], ["service"]])
def test_a_non_operator_is_refused(page, base_url, oidc_provider, roles):
    oidc_provider.sign_in_as("advertiser-3", roles)
    page.goto(f"{base_url}/console/sign-in")
    with page.expect_response(lambda r: "/console/oidc/callback" in r.url) as answer:
        page.get_by_role("link", name="Sign in with your identity provider").click()
    assert answer.value.status == 403
    assert "only operators" in page.content()

    page.goto(f"{base_url}/console/")
    assert page.url == f"{base_url}/console/sign-in"


def test_a_console_post_without_the_csrf_token_is_refused(operator_page, base_url):
    request = operator_page.context.request
    missing = request.post(f"{base_url}/console/sign-out")
    wrong = request.post(f"{base_url}/console/sign-out", form={"csrf_token": "forged"})
    assert missing.status == 403
    assert wrong.status == 403
    assert "did not come from this site" in wrong.text()

    operator_page.reload()  # still signed in: the refused requests changed nothing
    assert operator_page.locator("h1").inner_text() == "Refund queue"

    operator_page.get_by_role("button", name="Sign out").click()
    operator_page.wait_for_url(f"{base_url}/console/sign-in")
    operator_page.goto(f"{base_url}/console/")
    assert operator_page.url == f"{base_url}/console/sign-in"


def test_htmx_requests_carry_the_csrf_token(operator_page, base_url):
    operator_page.wait_for_function("window.htmx !== undefined")
    with operator_page.expect_response(lambda r: r.url.endswith("/console/sign-out")) as answer:
        operator_page.evaluate("htmx.ajax('POST', '/console/sign-out', {target: 'main'})")
    assert answer.value.status == 302
    operator_page.goto(f"{base_url}/console/")
    assert operator_page.url == f"{base_url}/console/sign-in"
