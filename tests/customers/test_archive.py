"""Customers, contacts and products are archived, never deleted."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers.models import Contact, Customer
from customers.services import archive_contact, archive_customer, restore_customer
from oms.outbox.models import OutboxEvent
from tests.factories import ContactFactory, CustomerFactory, advance_order, place_order

pytestmark = pytest.mark.django_db


def test_archive_customer_hides_it_from_active_and_keeps_the_row(sales):
    customer = archive_customer(CustomerFactory(), by=sales)
    assert customer.is_archived
    assert customer not in Customer.objects.active()
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert OutboxEvent.objects.filter(kind="customer.archived", subject_id=customer.pk).exists()


def test_restore_customer_brings_it_back(sales):
    customer = restore_customer(archive_customer(CustomerFactory(), by=sales), by=sales)
    assert not customer.is_archived
    assert customer in Customer.objects.active()


def test_archive_customer_refused_while_it_has_open_orders(sales):
    order = place_order(sales)
    with pytest.raises(ValidationError, match="open order"):
        archive_customer(order.customer, by=sales)
    order.customer.refresh_from_db()
    assert not order.customer.is_archived


def test_archive_customer_allowed_once_its_orders_are_closed(sales, manager):
    order = advance_order(place_order(sales), "lost", by=manager)
    assert archive_customer(order.customer, by=sales).is_archived


def test_archive_customer_refused_to_operations(operations):
    with pytest.raises(PermissionDenied):
        archive_customer(CustomerFactory(), by=operations)


def test_customers_and_contacts_are_never_deleted():
    contact = ContactFactory()
    with pytest.raises(ValidationError):
        contact.customer.delete()
    with pytest.raises(ValidationError):
        Customer.objects.all().delete()
    with pytest.raises(ValidationError):
        contact.delete()
    with pytest.raises(ValidationError):
        Contact.objects.all().delete()
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_archived_contact_is_not_the_one_we_email(sales):
    customer = CustomerFactory()
    old = ContactFactory(customer=customer, role=Contact.Role.BILLING, email="old@x.example")
    new = ContactFactory(customer=customer, role=Contact.Role.PRIMARY, email="new@x.example")
    archive_contact(old, by=sales)
    assert customer.contact(Contact.Role.BILLING) == new
    assert old not in Contact.objects.active()
