"""Real threads on PostgreSQL: customer credit is spent once, and a bank line is recorded
once, however many people press the button at the same moment."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from invoicing import services
from invoicing.banking import services as banking
from invoicing.models import CustomerCredit, Payment, Receipt
from tests.factories import CustomerFactory, advance_order, place_order
from tests.invoicing.test_concurrency import _race, _roles  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _issued(customer, manager):
    order = advance_order(place_order(manager, customer=customer), "delivered", by=manager)
    return services.approve_invoice(services.draft_invoice_for_order(order, by=manager), by=manager)


def test_credit_applied_to_two_invoices_at_once_is_spent_once(manager, finance):
    customer = CustomerFactory()
    first, second = _issued(customer, manager), _issued(customer, manager)
    services.receive_payment(
        customer, by=finance, amount=Decimal("120.00"), currency="GBP", allocations={}
    )
    results = _race(
        [
            lambda: services.apply_customer_credit(first, by=finance, amount=Decimal("120.00")),
            lambda: services.apply_customer_credit(second, by=finance, amount=Decimal("120.00")),
        ]
    )
    assert sum(isinstance(r, Payment) for r in results) == 1
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert CustomerCredit.objects.balance(customer, "GBP") == Decimal("0.00")
    assert Payment.objects.filter(method=Payment.Method.CREDIT).count() == 1


def test_one_bank_line_confirmed_twice_at_once_records_one_receipt(manager, finance):
    invoice = _issued(CustomerFactory(), manager)
    statement = banking.import_statement(
        by=finance,
        filename="s.csv",
        content=f"Date,Amount,Reference\n2026-01-05,120.00,{invoice.number}\n".encode(),
        currency="GBP",
    )
    line = statement.lines.get()
    results = _race([lambda: banking.confirm_line(line, by=finance) for _ in range(2)])
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert Receipt.objects.count() == 1
    assert Payment.objects.count() == 1
