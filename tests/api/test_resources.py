"""Customers, products, quotes, invoices and payments through the API, per role."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.models import Customer
from invoicing.models import Invoice, Payment
from invoicing.services import approve_invoice, draft_invoice_for_order
from orders.models import Order
from quotes.models import Quote
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    ProductFactory,
    advance_order,
    place_order,
    send_new_quote,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


def ids(response) -> list:
    assert response.status_code == 200, response.json()
    return [row.get("id", row.get("number")) for row in response.json()["results"]]


# --- customers -----------------------------------------------------------------------------


def test_customers_come_with_their_contacts(api, sales):
    customer = CustomerFactory(account_manager=sales)
    contact = ContactFactory(customer=customer, email="buyer@shop.example")
    body = api["sales"].get(f"{API}/customers/{customer.pk}").json()
    assert body["name"] == customer.name
    assert body["account_manager"] == sales.email
    assert body["contacts"] == [
        {
            "id": contact.pk,
            "name": contact.name,
            "email": "buyer@shop.example",
            "phone": contact.phone,
            "role": "primary",
            "archived_at": None,
        }
    ]


def test_customer_visibility_follows_the_role(api, sales):
    own = CustomerFactory(account_manager=sales)
    other = CustomerFactory()
    assert ids(api["sales"].get(f"{API}/customers")) == [own.pk]
    assert api["sales"].get(f"{API}/customers/{other.pk}").status_code == 404
    for role in ("operations", "finance", "manager", "admin"):
        assert set(ids(api[role].get(f"{API}/customers"))) == {own.pk, other.pk}


def test_sales_adds_a_customer_with_its_primary_contact(api, sales):
    response = api["sales"].post(
        f"{API}/customers",
        {"name": "Bright Shops Ltd", "contact_name": "Bea", "email": "BEA@Bright.example"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account_manager"] == sales.email
    assert body["contacts"][0]["email"] == "bea@bright.example"
    assert api["sales"].get(f"{API}/customers/{body['id']}").status_code == 200


def test_customer_input_is_checked_per_field(api):
    response = api["sales"].post(
        f"{API}/customers", {"name": "", "email": "not-an-email", "segment": "x"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "email", "segment"}
    assert not Customer.objects.exists()


@pytest.mark.parametrize("role", ["operations", "finance"])
def test_only_sales_adds_customers(api, role):
    assert api[role].post(f"{API}/customers", {"name": "X"}, format="json").status_code == 403


@pytest.mark.parametrize("rows", [10, 100])
def test_customer_list_query_count_is_flat(api, rows, django_assert_max_num_queries):
    for _ in range(rows):
        ContactFactory()
    with django_assert_max_num_queries(7):
        response = api["finance"].get(f"{API}/customers", {"page_size": 200})
    assert len(response.json()["results"]) == rows


# --- products ------------------------------------------------------------------------------


def test_products_list_active_ones_archived_still_open_by_id(api):
    active = ProductFactory(unit_price=Decimal("12.50"))
    archived = ProductFactory(active=False)
    response = api["operations"].get(f"{API}/products")
    assert ids(response) == [active.pk]
    assert response.json()["results"][0]["unit_price"] == "12.50"
    assert api["operations"].get(f"{API}/products/{archived.pk}").json()["active"] is False


def test_a_session_without_a_role_is_403(outsider):
    client = APIClient()
    client.force_login(outsider)
    assert client.get(f"{API}/products").status_code == 403
    assert client.get(f"{API}/orders").status_code == 403


@pytest.mark.parametrize("rows", [10, 100])
def test_product_list_query_count_is_flat(api, rows, django_assert_max_num_queries):
    ProductFactory.create_batch(rows)
    with django_assert_max_num_queries(6):
        response = api["sales"].get(f"{API}/products", {"page_size": 200})
    assert len(response.json()["results"]) == rows


# --- quotes --------------------------------------------------------------------------------


def test_sales_drafts_sends_and_records_acceptance(api, sales):
    order = place_order(sales)
    drafted = api["sales"].post(f"{API}/quotes", {"order": order.number}, format="json")
    assert drafted.status_code == 201, drafted.json()
    quote_id = drafted.json()["id"]
    assert drafted.json()["status"] == "draft"

    sent = api["sales"].post(f"{API}/quotes/{quote_id}/send", {}, format="json")
    assert sent.status_code == 200
    assert sent.json()["status"] == "sent"
    assert sent.json()["lines"][0]["description"] == "Widget"

    again = api["sales"].post(f"{API}/quotes/{quote_id}/send", {}, format="json")
    assert again.status_code == 400
    assert "cannot be sent again" in again.json()["detail"]

    accepted = api["sales"].post(
        f"{API}/quotes/{quote_id}/accept", {"name": "Pat Buyer", "po": "PO-9"}, format="json"
    )
    assert accepted.status_code == 200
    order.refresh_from_db()
    assert order.status == "confirmed" and order.po_reference == "PO-9"
    listed = api["operations"].get(f"{API}/quotes", {"order": order.number})
    assert ids(listed) == [quote_id]


def test_quote_writes_are_for_sales(api, sales):
    quote = send_new_quote(place_order(sales), sales)
    for action in ("accept", "decline", "send"):
        response = api["operations"].post(
            f"{API}/quotes/{quote.pk}/{action}", {"name": "X"}, format="json"
        )
        assert response.status_code == 403
    assert (
        api["finance"].post(f"{API}/quotes", {"order": quote.order.number}, format="json")
    ).status_code == 403
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_declining_loses_the_order(api, sales):
    quote = send_new_quote(place_order(sales), sales)
    response = api["sales"].post(
        f"{API}/quotes/{quote.pk}/decline", {"reason": "Too dear"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert Order.objects.get(pk=quote.order_id).status == "lost"


def test_quote_for_an_unknown_order_is_400_on_the_order_field(api, other_sales):
    theirs = place_order(other_sales)
    response = api["sales"].post(f"{API}/quotes", {"order": theirs.number}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["order"]


# --- invoices and payments -----------------------------------------------------------------


@pytest.fixture
def issued_invoice(manager):
    order = advance_order(place_order(manager), "delivered", by=manager)
    return approve_invoice(draft_invoice_for_order(order, by=manager), by=manager)


@pytest.mark.parametrize("role", ["sales", "operations"])
def test_invoices_and_payments_are_for_finance(api, role, issued_invoice):
    assert api[role].get(f"{API}/invoices").status_code == 403
    assert api[role].get(f"{API}/invoices/{issued_invoice.pk}").status_code == 403
    assert api[role].get(f"{API}/payments").status_code == 403
    response = api[role].post(
        f"{API}/payments", {"invoice": issued_invoice.pk, "amount": "1.00"}, format="json"
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_finance_approves_and_sends_a_draft(api, manager):
    order = advance_order(place_order(manager), "delivered", by=manager)
    draft = draft_invoice_for_order(order, by=manager)
    body = api["finance"].get(f"{API}/invoices/{draft.pk}").json()
    assert body["status"] == "draft" and body["number"] is None
    assert body["lines"][0]["description"] == "Widget"

    approved = api["finance"].post(f"{API}/invoices/{draft.pk}/approve")
    assert approved.status_code == 200
    assert approved.json()["number"].startswith("INV-")
    assert api["finance"].post(f"{API}/invoices/{draft.pk}/approve").status_code == 400
    sent = api["finance"].post(f"{API}/invoices/{draft.pk}/send")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert ids(api["finance"].get(f"{API}/invoices", {"status": "sent"})) == [draft.pk]


def test_finance_records_a_payment_and_the_order_is_paid(api, issued_invoice):
    gross = issued_invoice.gross_total
    too_much = api["finance"].post(
        f"{API}/payments",
        {"invoice": issued_invoice.pk, "amount": str(gross + 1)},
        format="json",
    )
    assert too_much.status_code == 400
    assert "outstanding" in too_much.json()["detail"]

    paid = api["finance"].post(
        f"{API}/payments",
        {"invoice": issued_invoice.pk, "amount": str(gross), "reference": "BACS 123"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    assert paid.json()["amount"] == str(gross)
    assert Invoice.objects.get(pk=issued_invoice.pk).status == "paid"
    assert Order.objects.get(pk=issued_invoice.order_id).status == "paid"
    listed = api["finance"].get(f"{API}/payments", {"invoice": issued_invoice.pk})
    assert ids(listed) == [paid.json()["id"]]


def test_payment_input_is_checked_per_field(api, issued_invoice):
    response = api["finance"].post(
        f"{API}/payments",
        {"invoice": 0, "amount": "0", "method": "barter", "date": "someday"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"invoice", "amount", "method", "date"}


@pytest.mark.parametrize("rows", [10, 100])
def test_invoice_list_query_count_is_flat(
    api, manager, rows, django_assert_max_num_queries, monkeypatch
):
    order = advance_order(place_order(manager), "delivered", by=manager)
    draft = draft_invoice_for_order(order, by=manager)
    # The listing cost is what is pinned here, not the drafting: rows are copies of one.
    for _ in range(rows - 1):
        Invoice.objects.create(order=order, customer=order.customer, kind="deposit")
    with django_assert_max_num_queries(7):
        response = api["finance"].get(f"{API}/invoices", {"page_size": 200})
    assert len(response.json()["results"]) == rows
    assert draft.pk in ids(response)


@pytest.mark.parametrize("rows", [10, 100])
def test_quote_and_payment_lists_query_counts_are_flat(
    api, manager, issued_invoice, rows, django_assert_max_num_queries
):
    order = place_order(manager)
    # Rows made directly: the listing's cost is pinned here, not the services'.
    Quote.objects.bulk_create(
        Quote(order=order, version=n, valid_until=order.created_at.date()) for n in range(rows)
    )
    Payment.objects.bulk_create(
        Payment(invoice=issued_invoice, amount=Decimal("0.01")) for _ in range(rows)
    )
    with django_assert_max_num_queries(6):
        quotes = api["manager"].get(f"{API}/quotes", {"page_size": 200})
    assert len(quotes.json()["results"]) == rows
    with django_assert_max_num_queries(6):
        payments = api["manager"].get(f"{API}/payments", {"page_size": 200})
    assert len(payments.json()["results"]) == rows


@pytest.mark.parametrize("rows", [10, 100])
def test_timeline_query_count_is_flat(api, manager, rows, django_assert_max_num_queries):
    from orders.services import add_note

    order = place_order(manager)
    for n in range(rows):
        add_note(order, by=manager, message=f"Call {n}")
    with django_assert_max_num_queries(7):
        response = api["manager"].get(f"{API}/orders/{order.number}/timeline", {"page_size": 200})
    assert response.json()["count"] == rows + 2
