import pytest
from django.urls import reverse

from orders import queries
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
    customer = CustomerFactory(name="Northern Lights Cafe", account_manager=sales)
    ContactFactory(
        customer=customer, name="Nora", email="Nora.Quinn@lights.example", phone="0113 496 0777"
    )
    return customer


@pytest.fixture
def order(sales, customer):
    return place_order(sales, customer=customer, title="Espresso machine", po_reference="PO-55/A")


@pytest.fixture
def decoy(other_sales):
    return place_order(other_sales, customer=CustomerFactory(name="Decoy Deli"), title="Decoy")


def _numbers(user, query):
    return [order.number for order in queries.search_orders(user, query).orders]


@pytest.mark.parametrize(
    "query",
    [
        "northern lights",  # part of the customer's name, any case
        "nora.quinn@LIGHTS.example",  # contact email, any case
        "01134960777",  # phone, typed without spaces
        "0113-496-0777",  # phone, typed with other separators
        "po-55/a",  # PO reference, any case
    ],
)
def test_search_finds_the_order_by_each_key(sales, order, decoy, query):
    assert _numbers(sales, query) == [order.number]


def test_search_finds_by_order_number_exactly_and_by_its_tail(sales, order, decoy):
    assert queries.search_orders(sales, order.number.lower()).exact == order
    tail = order.number.rsplit("-", 1)[1]
    assert order.number in _numbers(sales, tail)


def test_search_finds_by_quote_reference(sales, order):
    send_new_quote(order, sales)
    assert queries.search_orders(sales, f"{order.number}-Q1").exact == order
    assert queries.search_orders(sales, f"{order.number}-Q2").exact is None


def test_search_finds_by_invoice_and_credit_note_number(sales, manager, finance, order):
    from invoicing.services import approve_invoice, create_credit_note, draft_invoice_for_order

    order = advance_order(order, "delivered", by=manager)
    invoice = approve_invoice(draft_invoice_for_order(order, by=finance), by=finance)
    credit = create_credit_note(
        invoice, by=finance, reason="Damaged cup", amount=invoice.gross_total
    )
    assert queries.search_orders(sales, invoice.number).exact.pk == order.pk
    assert queries.search_orders(sales, credit.number.lower()).exact.pk == order.pk


def test_search_respects_what_the_user_may_see(sales, other_sales, operations, order):
    assert _numbers(other_sales, "northern") == []
    assert queries.search_orders(other_sales, order.number).exact is None
    assert _numbers(operations, "northern") == [order.number]


def test_search_with_nothing_typed_finds_nothing(sales, order):
    assert _numbers(sales, "   ") == []


def test_exact_order_number_redirects_to_the_order(client, sales, order):
    client.force_login(sales)
    response = client.get(reverse("orders:search"), {"q": f"  {order.number.lower()} "})
    assert response.status_code == 302
    assert response.url == reverse("orders:detail", kwargs={"number": order.number})


def test_search_page_lists_matches(client, sales, customer, order):
    second = place_order(sales, customer=customer, title="Grinder")
    client.force_login(sales)
    response = client.get(reverse("orders:search"), {"q": "Northern"})
    body = response.content.decode()
    assert response.status_code == 200
    assert order.number in body and second.number in body
    assert "2 orders matching" in body


def test_search_page_finds_nothing_politely(client, sales, order):
    client.force_login(sales)
    body = client.get(reverse("orders:search"), {"q": "zzz-none"}).content.decode()
    assert "Nothing found" in body


def test_search_page_query_count_is_constant(client, sales, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sales)
    counts = []
    for batch in (10, 90):
        for i in range(batch):
            place_order(sales, customer=customer, title=f"Bulk {i}")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("orders:search"), {"q": "northern"})
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert counts[0] <= 6
