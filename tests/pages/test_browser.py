"""The browser harness itself: chromium reaches the live service."""


def test_chromium_reaches_the_live_service(page, base_url):
    response = page.goto(f"{base_url}/healthz")
    assert response.status == 200
    assert "ok" in page.content()
