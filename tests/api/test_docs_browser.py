"""The API docs render every operation in Chromium with the strict policy enforced."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API runs an event loop; Django's ORM is called beside it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser.new_page()
        browser.close()


def test_docs_list_the_operations_and_the_policy_refuses_nothing(live_server, page):
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    # The policy also reports through this event; an init script is not subject to it.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('Content Security Policy violation: ' + e.violatedDirective); });"
    )
    page.on("pageerror", lambda error: refused.append(f"page error: {error}"))
    page.goto(live_server.url + reverse("api:docs"))
    page.wait_for_selector(".opblock", timeout=20_000)
    # Swagger UI breaks long paths with zero-width spaces.
    paths = [
        p.replace("\u200b", "") for p in page.locator(".opblock-summary-path").all_inner_texts()
    ]
    assert "/api/v1/orders/{number}/transitions/{name}" in paths
    assert page.locator(".auth-wrapper .authorize").count() == 1  # bearer token entry
    assert refused == []
