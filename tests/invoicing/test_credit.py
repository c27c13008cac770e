"""One receipt: allocations settle invoices, the excess becomes customer credit, which
finance applies to a later invoice. The balance is the sum of its ledger entries."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from invoicing import services
from invoicing.models import CustomerCredit, Invoice, Payment, Receipt
from oms.outbox.models import OutboxEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory()


@pytest.fixture
def issued(order_at, finance, customer):
    """issued() → a fresh approved 120.00 final invoice for `customer`."""

    def make():
        order = order_at("delivered", customer=customer)
        return services.approve_invoice(
            services.draft_invoice_for_order(order, by=finance), by=finance
        )

    return make


def _balance(customer, currency="GBP"):
    return CustomerCredit.objects.balance(customer, currency)


def test_overpayment_pays_the_invoice_and_keeps_the_rest_as_credit(issued, finance, customer):
    invoice = issued()
    receipt = services.receive_payment(
        customer,
        by=finance,
        amount=Decimal("150.00"),
        currency="GBP",
        allocations={invoice.pk: Decimal("120.00")},
        reference="BACS 77",
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert receipt.payments.get().amount == Decimal("120.00")
    assert _balance(customer) == Decimal("30.00")
    event = OutboxEvent.objects.get(kind="customer_credit.received")
    assert event.payload["amount"] == "30.00"
    assert invoice.order.timeline.filter(message__contains="customer credit").exists()


def test_credit_applied_later_settles_another_invoice(issued, finance, customer):
    first, second = issued(), issued()
    services.receive_payment(
        customer,
        by=finance,
        amount=Decimal("200.00"),
        currency="GBP",
        allocations={first.pk: Decimal("120.00")},
    )
    payment = services.apply_customer_credit(second, by=finance, amount=Decimal("50.00"))
    second.refresh_from_db()
    assert payment.method == Payment.Method.CREDIT
    assert second.status == Invoice.Status.PART_PAID
    assert second.outstanding == Decimal("70.00")
    assert _balance(customer) == Decimal("30.00")
    # The ledger explains the balance: +80 received, -50 applied.
    assert sorted(CustomerCredit.objects.values_list("amount", flat=True)) == [
        Decimal("-50.00"),
        Decimal("80.00"),
    ]
    assert OutboxEvent.objects.filter(kind="customer_credit.applied").count() == 1


def test_apply_without_amount_takes_what_the_invoice_needs(issued, finance, customer):
    invoice = issued()
    services.receive_payment(
        customer, by=finance, amount=Decimal("500.00"), currency="GBP", allocations={}
    )
    services.apply_customer_credit(invoice, by=finance)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert _balance(customer) == Decimal("380.00")


def test_apply_more_than_the_credit_is_refused(issued, finance, customer):
    invoice = issued()
    services.receive_payment(
        customer, by=finance, amount=Decimal("10.00"), currency="GBP", allocations={}
    )
    with pytest.raises(ValidationError, match=r"holds only GBP 10\.00"):
        services.apply_customer_credit(invoice, by=finance, amount=Decimal("10.01"))
    assert not Payment.objects.exists()
    assert _balance(customer) == Decimal("10.00")


def test_apply_more_than_outstanding_is_refused(issued, finance, customer):
    invoice = issued()
    services.receive_payment(
        customer, by=finance, amount=Decimal("500.00"), currency="GBP", allocations={}
    )
    with pytest.raises(ValidationError, match=r"more than the GBP 120\.00 outstanding"):
        services.apply_customer_credit(invoice, by=finance, amount=Decimal("121.00"))
    assert not Payment.objects.exists()


def test_credit_in_another_currency_is_not_spent(issued, finance, customer):
    invoice = issued()
    services.receive_payment(
        customer, by=finance, amount=Decimal("50.00"), currency="EUR", allocations={}
    )
    with pytest.raises(ValidationError, match="holds no GBP credit"):
        services.apply_customer_credit(invoice, by=finance)


def test_wrong_currency_receipt_records_nothing(issued, finance, customer):
    invoice = issued()
    with pytest.raises(ValidationError, match="is in GBP; a EUR payment cannot be recorded"):
        services.receive_payment(
            customer,
            by=finance,
            amount=Decimal("150.00"),
            currency="eur",
            allocations={invoice.pk: Decimal("120.00")},
        )
    assert not Receipt.objects.exists()
    assert not Payment.objects.exists()
    assert not CustomerCredit.objects.exists()


def test_allocations_over_the_amount_received_are_refused(issued, finance, customer):
    invoice = issued()
    with pytest.raises(ValidationError, match=r"more than the GBP 100\.00 received"):
        services.receive_payment(
            customer,
            by=finance,
            amount=Decimal("100.00"),
            currency="GBP",
            allocations={invoice.pk: Decimal("120.00")},
        )
    assert not Receipt.objects.exists()


def test_allocation_over_outstanding_rolls_back_the_whole_receipt(issued, finance, customer):
    first, second = issued(), issued()
    with pytest.raises(ValidationError, match=r"more than the GBP 120\.00 outstanding"):
        services.receive_payment(
            customer,
            by=finance,
            amount=Decimal("300.00"),
            currency="GBP",
            allocations={first.pk: Decimal("120.00"), second.pk: Decimal("130.00")},
        )
    assert not Receipt.objects.exists()
    assert not Payment.objects.exists()
    assert not CustomerCredit.objects.exists()
    first.refresh_from_db()
    assert first.status == Invoice.Status.APPROVED


def test_another_customers_invoice_is_refused(issued, finance, order_at):
    invoice = issued()
    stranger = CustomerFactory()
    with pytest.raises(ValidationError, match="belongs to another customer"):
        services.receive_payment(
            stranger,
            by=finance,
            amount=Decimal("120.00"),
            currency="GBP",
            allocations={invoice.pk: Decimal("120.00")},
        )


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "NaN"])
def test_receipt_needs_a_positive_amount(finance, customer, amount):
    with pytest.raises(ValidationError, match="payment amount"):
        services.receive_payment(
            customer, by=finance, amount=amount, currency="GBP", allocations={}
        )


def test_sales_cannot_receive_payments_or_apply_credit(issued, sales, customer, finance):
    invoice = issued()
    with pytest.raises(PermissionDenied):
        services.receive_payment(
            customer, by=sales, amount=Decimal("10"), currency="GBP", allocations={}
        )
    services.receive_payment(
        customer, by=finance, amount=Decimal("10"), currency="GBP", allocations={}
    )
    with pytest.raises(PermissionDenied):
        services.apply_customer_credit(invoice, by=sales)
    assert _balance(customer) == Decimal("10.00")


def test_credit_ledger_rows_are_never_changed(finance, customer):
    services.receive_payment(
        customer, by=finance, amount=Decimal("10"), currency="GBP", allocations={}
    )
    with pytest.raises(TypeError):
        CustomerCredit.objects.update(amount=Decimal("99"))
    with pytest.raises(ValidationError):
        CustomerCredit.objects.all().delete()
