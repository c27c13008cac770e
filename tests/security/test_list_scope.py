"""Lists, searches and exports show a salesperson their own and their customers' work,
never another salesperson's: the same rule as opening one object by its id."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, place_order, send_new_quote

pytestmark = pytest.mark.django_db

THEIR_CUSTOMER = "Quokka Interiors Ltd"
MY_CUSTOMER = "Wombat Builders Ltd"

# (URL name, kwargs, query string, whether the salesperson's own work must be listed)
LISTS = [
    ("orders:search", {}, {"q": "Ltd"}, True),
    ("orders:enquiries", {}, {}, False),  # both orders are quoted by now
    ("quotes:awaiting", {}, {}, True),
    ("customers:list", {}, {}, True),
    ("automation:decisions", {}, {}, False),
    ("imports:export", {"kind": "orders", "fmt": "csv"}, {}, True),
    ("imports:export", {"kind": "customers", "fmt": "csv"}, {}, True),
    ("api:order-list", {}, {}, True),
    ("api:customer-list", {}, {}, True),
    ("api:quote-list", {}, {}, True),
]


@pytest.fixture
def two_salespeople(sales, other_sales, manager):
    mine = place_order(sales, customer=CustomerFactory(name=MY_CUSTOMER, account_manager=sales))
    theirs = place_order(
        other_sales, customer=CustomerFactory(name=THEIR_CUSTOMER, account_manager=other_sales)
    )
    for order in (mine, theirs):
        send_new_quote(order, manager)
    return mine, theirs


@pytest.mark.parametrize(("name", "kwargs", "query", "lists_mine"), LISTS)
def test_sales_never_see_another_salespersons_work(
    client, sales, two_salespeople, name, kwargs, query, lists_mine
):
    mine, theirs = two_salespeople
    client.force_login(sales)

    response = client.get(reverse(name, kwargs=kwargs), query)

    assert response.status_code == 200
    body = response.content.decode()
    assert THEIR_CUSTOMER not in body and theirs.number not in body
    if lists_mine:
        assert mine.number in body or MY_CUSTOMER in body


def test_typeahead_finds_any_customer_but_none_of_their_work(client, sales, two_salespeople):
    """Any salesperson may take an enquiry for any customer (so no duplicate is created),
    so the type-ahead finds every customer; it shows no order, quote or amount."""
    _mine, theirs = two_salespeople
    client.force_login(sales)

    body = client.get(reverse("customers:typeahead"), {"q": "Quokka"}).content.decode()

    assert THEIR_CUSTOMER in body
    assert theirs.number not in body and "ORD-" not in body
