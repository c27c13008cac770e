"""Customers with every kind of contact, orders moved by services, and a way to carry out
what the outbox says in this process (the relay and Celery are covered in tests/faults)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from customers.models import Contact
from oms.outbox.runner import drain
from tests.factories import ContactFactory, CustomerFactory, advance_order, place_order

LONDON = ZoneInfo("Europe/London")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def customer():
    customer = CustomerFactory(name="Brightwell Ltd")
    ContactFactory(
        customer=customer,
        name="Pat Primary",
        email="pat@brightwell.example",
        role=Contact.Role.PRIMARY,
    )
    ContactFactory(
        customer=customer,
        name="Bea Billing",
        email="bea@brightwell.example",
        role=Contact.Role.BILLING,
    )
    ContactFactory(
        customer=customer,
        name="Sam Senior",
        email="sam@brightwell.example",
        role=Contact.Role.SENIOR,
    )
    return customer


@pytest.fixture
def run_outbox():
    """Carry out every pending outbox event here and now, as the workers would."""
    return drain


@pytest.fixture
def order_for(customer, sales, manager):
    """order_for("confirmed") → an order owned by the cast's salesperson in that state."""

    def make(state: str, **fields):
        order = place_order(sales, customer=customer, **fields)
        return advance_order(order, state, by=manager)

    return make
