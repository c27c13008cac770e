"""The sales journey in a real browser: enquiry, three-line quote, email, customer
acceptance, and operations seeing the confirmed order with everything they need."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import NoReverseMatch, reverse

from oms.accounts.roles import Role
from oms.outbox.models import OutboxEvent
from orders.models import Order
from quotes.handlers import email_quote
from quotes.models import Quote
from tests.conftest import log_in_browser, make_user
from tests.factories import ContactFactory, CustomerFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(django_user_model):
    # Flushing between transactional tests empties the role groups the migration made.
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    return {
        "sales": make_user(django_user_model, "sam.sales@example.com", Role.SALES),
        "operations": make_user(django_user_model, "olga.ops@example.com", Role.OPERATIONS),
    }


def _builder_round_trip(page, act) -> None:
    """Do `act` and wait until the server's answer has been swapped in."""
    from playwright.sync_api import expect

    with page.expect_response(lambda r: "/quotes/order/" in r.url and r.request.method == "POST"):
        act()
    # A locator assertion, not wait_for_function: the Content Security Policy forbids eval.
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)


def _fill_line(page, index: int, **values) -> None:
    for field, value in values.items():
        locator = page.locator(f"#line-{index}-{field}")
        locator.fill(value)
        _builder_round_trip(page, lambda locator=locator: locator.dispatch_event("change"))


def test_enquiry_to_confirmed_order_in_the_operations_view(live_server, browser, people, settings):
    settings.SITE_URL = live_server.url
    customer = CustomerFactory(
        name="Harbour Cafe Ltd", delivery_address="7 Quay Street, Whitby, YO21 1AB"
    )
    ContactFactory(customer=customer, name="Hana Reed", email="hana@harbour.example")
    ProductFactory(code="OAK-1", name="Oak tread", unit_price=Decimal("45.50"))
    ProductFactory(code="FIT-1", name="Fitting (day)", unit_price=Decimal("300.00"))
    base = live_server.url

    # The salesperson captures the enquiry, picking the customer from the type-ahead.
    staff = browser.new_context()
    page = staff.new_page()
    log_in_browser(page, base, people["sales"])
    page.goto(f"{base}{reverse('orders:enquiry_create')}")
    page.fill("#customer-search", "Harbour")
    page.locator("#customer-results input[name=customer]").first.check()
    page.fill("#id_title", "Oak staircase refit")
    page.fill("#id_specification", "Replace 12 treads in oak, oiled finish")
    page.select_option("#id_source", "phone")
    page.select_option("#id_owner", str(people["sales"].pk))
    page.click("text=Capture enquiry")
    page.wait_for_url(re.compile(r"/quotes/order/"))
    order = Order.objects.get()

    # Three lines: two from the catalogue (filled by the server), one free text.
    _fill_line(page, 0, product="OAK-1")
    _fill_line(page, 0, quantity="12")
    _builder_round_trip(page, lambda: page.click("#add-line"))
    _fill_line(page, 1, product="FIT-1")
    _fill_line(page, 1, quantity="1.5")
    _builder_round_trip(page, lambda: page.click("#add-line"))
    _fill_line(page, 2, description="Delivery", unit_price="80.00", tax_rate="0")
    assert page.input_value("#line-0-description") == "Oak tread"
    assert page.inner_text("#total-gross") == "1,275.20"
    page.select_option("#id_contact", label="Hana Reed (Primary)")
    page.click("#send-quote")
    page.wait_for_url(re.compile(r"/quotes/\d+/$"))
    quote = Quote.objects.get()
    assert quote.status == Quote.Status.SENT
    assert len(quote.lines_snapshot) == 3

    # The quote email goes out (the handler the outbox runs) and carries the link.
    email_quote(OutboxEvent.objects.get(kind="quote.sent", subject_id=quote.pk))
    (message,) = mail.outbox
    assert message.to == ["hana@harbour.example"]
    link = re.search(r"https?://\S+/quotes/q/\S+/", message.body).group(0)

    # The customer opens the link, with no login, and accepts.
    customer_page = browser.new_context().new_page()
    customer_page.goto(link)
    customer_page.fill("#id_name", "Hana Reed")
    customer_page.fill("#id_po", "PO-4471")
    customer_page.click("#accept")
    customer_page.wait_for_selector("[data-state=accepted]")
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED

    # Operations see the confirmed order with what they need: nobody forwarded anything.
    ops = browser.new_context().new_page()
    log_in_browser(ops, base, people["operations"])
    try:
        ops.goto(f"{base}{reverse('orders:queue')}")
        assert order.number in ops.content()
    except NoReverseMatch:
        pass  # the operations queue is another workspace; the order page carries it all
    ops.goto(f"{base}{reverse('orders:detail', kwargs={'number': order.number})}")
    content = ops.content()
    for expected in (
        order.number,
        "Confirmed",
        "Replace 12 treads in oak, oiled finish",
        "7 Quay Street, Whitby",
        "PO-4471",
        "Oak tread",
        "Fitting (day)",
        "Delivery",
    ):
        assert expected in content, expected
