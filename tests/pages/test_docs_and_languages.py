"""/docs works offline; the pages speak Korean when asked."""

from urllib.parse import urlsplit

from tests.pages.conftest import portal_link


def test_docs_render_with_every_outside_request_blocked(context, base_url):
    blocked = []

    def only_local(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(f"{base_url}/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for()
    assert "Prepaid credit ledger" in title.inner_text()
    assert page.locator(".opblock-summary-path", has_text="/portal-sessions").count() >= 1
    assert blocked == []


def test_korean_headings_by_accept_language(browser, console_link, live_caller, base_url):
    org = live_caller.create_org(currency="KRW")
    context = browser.new_context(locale="ko-KR", extra_http_headers={"Accept-Language": "ko"})
    try:
        page = context.new_page()
        page.goto(console_link())
        assert page.locator("h1").inner_text() == "환불 대기열"
        assert page.locator("html").get_attribute("lang") == "ko"

        page.goto(portal_link(live_caller, org))
        assert page.locator("h1").inner_text() == "잔액"

        page.get_by_role("link", name="English").click()
        assert page.locator("h1").inner_text() == "Balance"
        page.reload()  # the choice is remembered over Accept-Language
        assert page.locator("h1").inner_text() == "Balance"
    finally:
        context.close()
