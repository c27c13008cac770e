"""Every role logs in through the real form in Chromium and lands on its own work."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oms.accounts.roles import Role
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# The role's first panel on its home page, and the role badge in the header.
HOMES = {
    "sales": ("My enquiries", "Sales"),
    "operations": ("Confirmed orders to start", "Operations"),
    "finance": ("Draft invoices to approve", "Finance"),
    "manager": ("Pipeline", "Manager"),
    "admin": ("Pipeline", "Admin"),
}


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
    yield context.new_page()
    context.close()


def log_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + reverse("accounts:home"))
    assert "/login/" in page.url, "an anonymous visitor is sent to the login page"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/$"))


@pytest.mark.parametrize("role", sorted(HOMES))
def test_role_logs_in_and_sees_its_home(page, live_server, cast, role):
    first_panel, badge = HOMES[role]

    log_in(page, live_server, cast[role].email)

    assert page.url == live_server.url + reverse("accounts:home")
    panels = page.locator(".panel h2")
    assert panels.first.inner_text() == first_panel
    assert page.get_by_test_id("role").inner_text() == badge
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/login/.*"))


def test_wrong_password_is_refused_with_a_message(page, live_server, sales):
    page.goto(live_server.url + reverse("accounts:login"))
    page.get_by_label("Email").fill(sales.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert "/login/" in page.url
    assert "correct email" in page.locator(".errorlist").inner_text()


def test_home_fits_a_phone_screen(chromium, live_server, operations):
    context = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, live_server, operations.email)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, "the page scrolls sideways on a phone"
        assert page.get_by_role("link", name="Home").is_visible()
        assert page.locator(".panel").first.is_visible()
    finally:
        context.close()
