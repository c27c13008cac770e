"""The metrics page in Chromium: filters refresh the results in place, a bad filter shows
its message there, and nothing breaks the Content Security Policy."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oms.accounts.roles import Role
from tests.conftest import PASSWORD
from tests.factories import CustomerFactory, advance_order, place_order, send_new_quote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(autouse=True)
def _role_groups(transactional_db):
    """Flushing between transactional tests empties the groups the roles migration made."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture(scope="module")
def chromium():
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API runs an event loop; Django's ORM is called beside it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            page.problems.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()


def _log_in(page, base: str, user) -> None:
    page.goto(base + reverse("accounts:login"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*login).*$"))


def test_filters_refresh_the_results_and_bad_input_shows_a_message(
    page, live_server, cast, settings
):
    settings.METRICS_CACHE_SECONDS = 0
    sales, manager = cast["sales"], cast["manager"]
    retail = CustomerFactory(segment="retail")
    send_new_quote(place_order(sales, customer=retail), sales)
    advance_order(place_order(sales), "delivered", by=manager)

    _log_in(page, live_server.url, manager)
    page.goto(live_server.url + reverse("orders:metrics"))
    assert page.locator("#metric-funnel").is_visible()
    assert page.locator("svg.chart").count() == 3
    funnel = page.locator("#metric-funnel tbody tr").first
    assert funnel.inner_text().split("\t")[1].strip() == "2"

    page.get_by_label("Customer type").select_option("retail")
    with page.expect_response(lambda r: "partial=metrics-results" in r.url):
        page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*customer_type=retail.*"))
    assert page.locator("#metric-funnel tbody tr").first.inner_text().split("\t")[1] == "1"

    # The browser checks the number fields itself; a reversed range only the server sees.
    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-01-01")
    with page.expect_response(lambda r: r.status == 400):
        page.get_by_role("button", name="Show").click()
    alert = page.locator("#metrics-results [role=alert]")
    alert.wait_for()
    assert "on or before the end date" in alert.inner_text()
    assert page.problems == []
