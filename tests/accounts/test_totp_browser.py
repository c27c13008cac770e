"""Two-step sign-in in Chromium under the enforced Content Security Policy: set it up from
the QR page, then sign in again with the password and a recovery code."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from oms.accounts.roles import Role
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def chromium(monkeypatch):
    # Playwright's sync API runs an event loop; Django's ORM is called beside it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _password_login(page, live_server, email: str) -> None:
    page.goto(live_server.url + reverse("accounts:login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_enrol_then_sign_in_with_a_recovery_code(chromium, live_server, django_user_model):
    Group.objects.get_or_create(name=Role.FINANCE.value)
    person = make_user(django_user_model, "fay@example.com", Role.FINANCE)
    context = chromium.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    _password_login(page, live_server, person.email)
    page.goto(live_server.url + reverse("accounts:otp_setup"))
    qr = page.locator("#otp-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 50
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("The 6-digit code your app shows").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    codes = page.locator('[data-testid="recovery-codes"] code').all_inner_texts()
    assert len(codes) == 10

    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Log out").click()
    _password_login(page, live_server, person.email)
    page.wait_for_url(re.compile(r"/login/code/"))
    page.get_by_label(re.compile("or a recovery code")).fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live_server.url + reverse("accounts:home"))
    assert page.get_by_test_id("role").inner_text() == "Finance"
    assert violations == []
    context.close()
