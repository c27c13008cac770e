"""Finance edits a draft invoice's line in place: the row turns into a form, saves, and the
totals refresh without a page load; the receipt form says how much becomes credit."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from invoicing import services
from invoicing.models import Invoice
from oms.accounts.roles import Role
from orders.models import TimelineEvent
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


def test_finance_edits_a_draft_line_in_place(live_server, browser, people):
    manager = people["manager"]
    order = advance_order(place_order(manager, customer=CustomerFactory()), "delivered", by=manager)
    draft = services.draft_invoice_for_order(order, by=manager)
    line = draft.lines.get()
    base = live_server.url
    page = browser.new_context().new_page()
    errors = []
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and errors.append(f"{response.status} {response.url}")
        ),
    )
    log_in_browser(page, base, people["finance"])
    page.goto(f"{base}{reverse('invoicing:detail', args=[draft.pk])}")
    summary = page.locator("#invoice-summary")
    assert "GBP 120.00" in summary.inner_text()

    page.locator(f"#invoice-line-{line.pk} >> text=Edit").click()
    form_row = page.locator(f"#invoice-line-{line.pk}.editing")
    form_row.wait_for()
    form_row.locator(f"#id_line-{line.pk}-unit_price").fill("75.00")
    form_row.locator("button[type=submit]").click()

    expect(summary).to_contain_text("GBP 180.00")
    assert page.url.endswith(reverse("invoicing:detail", args=[draft.pk]))
    assert "Line saved." in page.locator("#invoice-lines").inner_text()
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("180.00")
    assert TimelineEvent.objects.filter(order=order, message__contains="75.00").exists()
    assert not errors, errors


def test_receipt_form_shows_what_becomes_credit(live_server, browser, people):
    manager = people["manager"]
    order = advance_order(place_order(manager, customer=CustomerFactory()), "delivered", by=manager)
    invoice = services.approve_invoice(
        services.draft_invoice_for_order(order, by=manager), by=manager
    )
    base = live_server.url
    page = browser.new_context().new_page()
    log_in_browser(page, base, people["finance"])
    page.goto(f"{base}{reverse('invoicing:customer_billing', args=[invoice.customer_id])}")
    page.fill("#id_amount", "150.00")
    page.fill(f"[name=alloc-{invoice.pk}]", "120.00")
    note = page.locator("[data-receipt-remainder]")
    assert "GBP 30.00 will be kept as customer credit." in note.inner_text()
    page.click("text=Record receipt")
    page.wait_for_selector("text=kept as customer credit")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
