from datetime import timedelta

import pytest
import time_machine
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, Customer
from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from tests.conftest import PASSWORD
from tests.factories import ContactFactory, CustomerFactory, place_order

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(request=HttpRequest(), email=user.email, password=PASSWORD)


def _enquiry(**overrides):
    data = {
        "title": "Oak staircase",
        "specification": "Two flights, oak treads",
        "kind": Order.Kind.MANUFACTURING,
        "source": Order.Source.PHONE,
        "requested_date": "",
        "owner": "",
    }
    data.update(overrides)
    return data


def test_enquiry_for_an_existing_customer_opens_the_quote_builder(client, sales):
    customer = CustomerFactory()
    _login(client, sales)

    response = client.post(
        reverse("orders:enquiry_create"), _enquiry(customer=customer.pk, owner=sales.pk)
    )

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("quotes:builder", kwargs={"number": order.number})
    assert order.customer == customer
    assert order.owner == sales
    assert order.status == Order.Status.ENQUIRY
    assert order.source == Order.Source.PHONE
    assert order.specification == "Two flights, oak treads"
    assert OutboxEvent.objects.filter(kind="order.created", order_id=order.pk).count() == 1


def test_enquiry_creates_a_new_customer_inline_with_its_contact(client, sales):
    _login(client, sales)

    client.post(
        reverse("orders:enquiry_create"),
        _enquiry(
            new_name="Harbour Cafe Ltd",
            new_contact_name="Hana Reed",
            new_email="Hana@Harbour.example",
            new_phone="0113 496 0000",
            source=Order.Source.WEB,
        ),
    )

    customer = Customer.objects.get(name="Harbour Cafe Ltd")
    contact = customer.contacts.get()
    assert (contact.name, contact.email, contact.role) == (
        "Hana Reed",
        "hana@harbour.example",
        Contact.Role.PRIMARY,
    )
    assert Order.objects.get().customer == customer


@pytest.mark.parametrize(
    "clash",
    [
        {"new_name": "acme joinery ltd", "new_email": "new@elsewhere.example"},
        {"new_name": "Acme Joinery (North)", "new_email": "BUYER@acme.example"},
    ],
)
def test_duplicate_customer_warns_and_saves_nothing(client, sales, clash):
    acme = CustomerFactory(name="Acme Joinery Ltd")
    ContactFactory(customer=acme, email="buyer@acme.example")
    _login(client, sales)

    response = client.post(reverse("orders:enquiry_create"), _enquiry(**clash))

    assert response.status_code == 422
    assert b'id="duplicate-warning"' in response.content
    assert b"Acme Joinery Ltd" in response.content
    assert Customer.objects.count() == 1
    assert not Order.objects.exists()


def test_duplicate_customer_created_anyway_when_confirmed(client, sales):
    CustomerFactory(name="Acme Joinery Ltd")
    _login(client, sales)

    client.post(
        reverse("orders:enquiry_create"),
        _enquiry(new_name="Acme Joinery Ltd", new_email="x@acme2.example", create_anyway="on"),
    )

    assert Customer.objects.filter(name="Acme Joinery Ltd").count() == 2
    assert Order.objects.count() == 1


def test_enquiry_without_a_customer_is_refused_next_to_the_field(client, sales):
    _login(client, sales)

    response = client.post(reverse("orders:enquiry_create"), _enquiry())

    assert response.status_code == 422
    assert b"Choose an existing customer or name the new one." in response.content
    assert not Order.objects.exists()


def test_blank_owner_assigns_salespeople_in_turn(client, sales, other_sales):
    customer = CustomerFactory()
    _login(client, sales)

    for _ in range(4):
        client.post(reverse("orders:enquiry_create"), _enquiry(customer=customer.pk))

    owners = list(Order.objects.order_by("created_at", "id").values_list("owner", flat=True))
    assert owners[0] != owners[1]
    assert owners[:2] == owners[2:]
    assert set(owners) == {sales.pk, other_sales.pk}


def test_round_robin_skips_inactive_salespeople(client, sales, other_sales):
    other_sales.is_active = False
    other_sales.save()
    customer = CustomerFactory()
    _login(client, sales)

    for _ in range(2):
        client.post(reverse("orders:enquiry_create"), _enquiry(customer=customer.pk))

    assert set(Order.objects.values_list("owner", flat=True)) == {sales.pk}


def test_enquiry_capture_refused_to_operations(client, operations):
    _login(client, operations)

    assert client.get(reverse("orders:enquiry_create")).status_code == 403


def test_my_enquiries_lists_only_mine_with_age(client, sales, other_sales):
    with time_machine.travel(timezone.now() - timedelta(days=5)):
        mine = place_order(sales, title="Old enquiry")
    place_order(other_sales, title="Someone else's")
    _login(client, sales)

    response = client.get(reverse("orders:enquiries"))

    body = response.content.decode()
    assert mine.number in body
    assert "Someone else" not in body
    assert "5 days" in body


def test_my_enquiries_leaves_out_quoted_orders(client, sales):
    from tests.factories import send_new_quote

    order = place_order(sales)
    send_new_quote(order, sales)
    _login(client, sales)

    assert order.number.encode() not in client.get(reverse("orders:enquiries")).content


def test_team_enquiries_for_managers_filter_by_owner(client, manager, sales, other_sales):
    mine = place_order(sales)
    theirs = place_order(other_sales)
    _login(client, manager)

    everyone = client.get(reverse("orders:team_enquiries")).content.decode()
    filtered = client.get(reverse("orders:team_enquiries"), {"owner": other_sales.pk})

    assert mine.number in everyone and theirs.number in everyone
    assert theirs.number.encode() in filtered.content
    assert mine.number.encode() not in filtered.content


def test_team_enquiries_refused_to_salespeople(client, sales):
    _login(client, sales)

    assert client.get(reverse("orders:team_enquiries")).status_code == 403


@pytest.mark.parametrize("rows", [10, 100])
def test_enquiry_queues_query_count_is_constant(
    client, manager, sales, rows, django_assert_max_num_queries
):
    customer = CustomerFactory()
    for _ in range(rows):
        place_order(sales, customer=customer)
    _login(client, sales)
    with django_assert_max_num_queries(8):
        mine = client.get(reverse("orders:enquiries"))
    _login(client, manager)
    with django_assert_max_num_queries(9):
        team = client.get(reverse("orders:team_enquiries"))

    assert mine.content.count(b"<tr>") == rows + 1
    assert team.content.count(b"<tr>") == rows + 1


def test_confirm_without_a_quote(client, sales):
    order = place_order(sales)
    _login(client, sales)

    client.post(
        reverse("orders:enquiry_confirm", kwargs={"number": order.number}),
        {"reason": "Agreed on the phone"},
    )

    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    assert order.timeline.filter(
        kind=TimelineEvent.Kind.TRANSITION, to_state="confirmed", actor=sales
    ).exists()


def test_confirm_without_a_quote_refused_for_someone_elses_order(client, sales, other_sales):
    order = place_order(other_sales)
    _login(client, sales)

    response = client.post(reverse("orders:enquiry_confirm", kwargs={"number": order.number}))

    order.refresh_from_db()
    assert response.status_code == 404
    assert order.status == Order.Status.ENQUIRY
