"""The advertiser portal: opened by a one-use link, confined to its organisation."""

from tests.pages.conftest import portal_link


def test_the_portal_link_is_single_use_and_confined_to_its_organisation(
    page, browser, live_caller, base_url
):
    org = live_caller.create_org(currency="KRW", name="Acme Ads")
    other = live_caller.create_org(currency="KRW", name="Other Ads")
    live_caller.grant(org, 12000)
    link = portal_link(live_caller, org, role="viewer", return_url="https://ads.example.com/")
    assert link.startswith(f"{base_url}/portal/sign-in/")

    page.goto(link)
    assert page.url == f"{base_url}/portal/{org.id}/"
    assert page.locator("h1").inner_text() == "Balance"
    assert page.locator("#available").inner_text() == "₩12,000"
    assert page.get_by_role("link", name="Back to the dashboard").get_attribute("href") == (
        "https://ads.example.com/"
    )

    elsewhere = page.goto(f"{base_url}/portal/{other.id}/")
    assert elsewhere.status == 404
    assert "₩" not in page.locator("main").inner_text()

    stranger = browser.new_context()
    try:
        reused = stranger.new_page().goto(link)
        assert reused.status == 403
        assert stranger.new_page().goto(f"{base_url}/portal/{org.id}/").status == 401
    finally:
        stranger.close()


def test_signing_out_of_the_portal_ends_the_session(page, live_caller, base_url):
    org = live_caller.create_org(currency="USD")
    live_caller.grant(org, 1999)
    page.goto(portal_link(live_caller, org))
    assert page.locator("#available").inner_text() == "$19.99"

    page.get_by_role("button", name="Sign out").click()
    assert page.locator("h1").inner_text() == "Signed out"
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert not [c for c in page.context.cookies() if c["name"] == "ledger_portal"]
    assert page.goto(f"{base_url}/portal/{org.id}/").status == 401
