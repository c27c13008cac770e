"""Finance pages through the draft review queue: Next swaps only the table (no page load),
the address bar follows, and the currency filter stays on."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from invoicing import services
from oms.accounts.roles import Role
from tests.conftest import log_in_browser, make_user
from tests.factories import CustomerFactory, advance_order, place_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(django_user_model):
    # Flushing between transactional tests empties the role groups the migration made.
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    return {
        "manager": make_user(django_user_model, "mo.manager@example.com", Role.MANAGER),
        "finance": make_user(django_user_model, "fay.finance@example.com", Role.FINANCE),
    }


def test_next_page_swaps_only_the_drafts_table_and_keeps_the_filter(live_server, browser, people):
    manager = people["manager"]
    euro_customer = CustomerFactory(currency="EUR")
    for _ in range(53):
        order = advance_order(place_order(manager, customer=euro_customer), "delivered", by=manager)
        services.draft_invoice_for_order(order, by=manager)
    page = browser.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    log_in_browser(page, live_server.url, people["finance"])
    page.goto(f"{live_server.url}{reverse('invoicing:drafts')}?currency=EUR")
    expect(page.locator("#drafts-table tbody tr")).to_have_count(50)
    page.evaluate("window.stillTheSamePage = true")

    page.click("#drafts-table a[rel=next]")

    expect(page.locator("#drafts-table")).to_contain_text("Page 2 of 2")
    expect(page.locator("#drafts-table tbody tr")).to_have_count(3)
    assert page.evaluate("window.stillTheSamePage === true")  # swapped, not reloaded
    assert "currency=EUR" in page.url and "page=2" in page.url
    expect(page.locator("[data-total=EUR]")).to_contain_text("53 drafts")
    assert blocked == []
