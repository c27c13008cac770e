"""A manager registers an endpoint in a real browser, copies its secret, pings it and
watches the answer arrive in the delivery log, with the Content Security Policy on."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oms.accounts.roles import Role
from oms.webhooks.models import WebhookEndpoint
from oms.webhooks.services import send_due
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boss(django_user_model):
    # Flushing between transactional tests empties the role groups the migration made.
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    return make_user(django_user_model, "mo.manager@example.com", Role.MANAGER)


def test_register_ping_and_read_the_log(live_server, browser, boss, receiver):
    from playwright.sync_api import expect

    page = browser.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(live_server.url + reverse("accounts:login"))
    page.fill("#id_username", boss.email)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r"^(?!.*login).*$"))

    page.locator("nav.nav").get_by_role("link", name="Webhooks").click()
    page.get_by_role("link", name="Add an endpoint").click()
    page.fill("#id_url", receiver.url)
    page.fill("#id_description", "Van scheduling")
    page.get_by_label("order.confirmed —").check()
    page.get_by_label("order.delivered —").check()
    page.get_by_role("button", name="Save").click()

    secret = page.get_by_test_id("secret").inner_text()
    endpoint = WebhookEndpoint.objects.get()
    assert secret == endpoint.secret
    assert endpoint.event_types == ["order.confirmed", "order.delivered"]
    receiver.secret = secret

    page.get_by_role("button", name="Send test ping").click()
    expect(page.locator("#messages")).to_contain_text("Test ping queued")
    expect(page.get_by_test_id("secret")).to_have_count(0)  # shown once only
    assert send_due() == 1
    assert [request["signed"] for request in receiver.requests] == [True]

    page.locator("#delivery-log select[name=status]").select_option("delivered")
    expect(page.locator("#delivery-log tbody")).to_contain_text("ping")
    expect(page.locator("#delivery-log tbody")).to_contain_text("HTTP 200")
    page.locator("#delivery-log tbody a").first.click()
    expect(page.locator("main")).to_contain_text("A test ping from the OMS.")
    assert refused == []
