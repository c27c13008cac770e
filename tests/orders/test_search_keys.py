"""One-box search through the page, the way someone answering the phone uses it: every kind
of key a caller reads out finds the order, and the box is on every staff page."""

import pytest
from django.urls import reverse

from customers.models import Contact
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    advance_order,
    place_order,
    send_new_quote,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(sales):
    customer = CustomerFactory(name="Quayside Joinery", account_manager=sales)
    ContactFactory(
        customer=customer, name="Pat", email="pat@quayside.example", phone="0161 496 0123"
    )
    ContactFactory(
        customer=customer,
        name="Bea",
        email="accounts@quayside.example",
        phone="07700 900456",
        role=Contact.Role.BILLING,
    )
    return customer


@pytest.fixture
def order(sales, customer):
    return place_order(sales, customer=customer, title="Staircase", po_reference="QJ-7781")


@pytest.fixture
def decoy(sales):
    return place_order(sales, customer=CustomerFactory(name="Other Timber"), po_reference="OT-1")


def _search(client, query):
    return client.get(reverse("orders:search"), {"q": query})


def _detail(order) -> str:
    return reverse("orders:detail", kwargs={"number": order.number})


@pytest.mark.parametrize(
    "query",
    [
        "quayside",  # part of the customer's name
        "QUAYSIDE JOINERY",  # the whole name, other case
        "pat@quayside.example",  # the primary contact's email
        "ACCOUNTS@quayside.example",  # the billing contact's email, other case
        "0161 496 0123",  # the primary contact's phone as written
        "07700900456",  # the billing contact's phone without spaces
        "07700-900-456",  # and with dashes
        "QJ-7781",  # the customer's PO reference
        "qj-7781",  # in lower case
    ],
)
def test_search_page_lists_the_order_for_each_key(client, sales, order, decoy, query):
    client.force_login(sales)
    response = _search(client, query)
    assert response.status_code == 200
    body = response.content.decode()
    assert order.number in body
    assert decoy.number not in body


def test_order_number_goes_straight_to_the_order(client, sales, order, decoy):
    client.force_login(sales)
    assert _search(client, order.number).url == _detail(order)


def test_quote_number_goes_straight_to_the_order(client, sales, order, decoy):
    quote = send_new_quote(order, sales)
    client.force_login(sales)
    response = _search(client, quote.reference.lower())
    assert response.status_code == 302
    assert response.url == _detail(order)


def test_invoice_number_goes_straight_to_the_order(client, sales, manager, finance, order, decoy):
    from invoicing.services import approve_invoice, draft_invoice_for_order

    delivered = advance_order(order, "delivered", by=manager)
    invoice = approve_invoice(draft_invoice_for_order(delivered, by=finance), by=finance)
    client.force_login(finance)
    response = _search(client, f" {invoice.number} ")
    assert response.status_code == 302
    assert response.url == _detail(order)


def test_an_unknown_invoice_number_finds_nothing(client, finance, order):
    client.force_login(finance)
    response = _search(client, "INV-2026-99999")
    assert response.status_code == 200
    assert "Nothing found" in response.content.decode()


@pytest.mark.parametrize("role", ["sales", "operations", "finance", "manager"])
def test_the_search_box_is_on_every_staff_page(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    pages = [reverse("accounts:home"), reverse("orders:search")]
    if role == "manager":
        pages += [reverse("orders:pipeline"), reverse("orders:metrics")]
    for page in pages:
        body = client.get(page).content.decode()
        assert 'role="search"' in body, page
        assert f'action="{reverse("orders:search")}"' in body, page
