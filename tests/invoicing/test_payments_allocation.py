"""One receipt split across a customer's invoices: all or nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from invoicing import services
from invoicing.models import Invoice, Payment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_invoices(order_at, finance):
    customer = CustomerFactory()
    return [
        services.approve_invoice(
            services.draft_invoice_for_order(order_at("delivered", customer=customer), by=finance),
            by=finance,
        )
        for _ in range(2)
    ]


def test_split_payment_pays_one_and_part_pays_the_other(two_invoices, finance):
    first, second = two_invoices
    services.record_split_payment(
        first.customer,
        by=finance,
        allocations={first.pk: Decimal("120.00"), second.pk: Decimal("30.00")},
        reference="BACS 991",
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Invoice.Status.PAID
    assert second.status == Invoice.Status.PART_PAID
    assert second.outstanding == Decimal("90.00")
    assert Payment.objects.filter(reference="BACS 991").count() == 2


def test_split_payment_over_outstanding_records_nothing(two_invoices, finance):
    first, second = two_invoices
    with pytest.raises(ValidationError, match=r"more than the GBP 120\.00 outstanding"):
        services.record_split_payment(
            first.customer,
            by=finance,
            allocations={first.pk: Decimal("10.00"), second.pk: Decimal("121.00")},
        )
    assert not Payment.objects.exists()


def test_split_payment_refuses_another_customers_invoice(two_invoices, finance, order_at):
    other = services.approve_invoice(
        services.draft_invoice_for_order(order_at("delivered"), by=finance), by=finance
    )
    with pytest.raises(ValidationError, match="must belong to"):
        services.record_split_payment(
            two_invoices[0].customer,
            by=finance,
            allocations={two_invoices[0].pk: Decimal("1.00"), other.pk: Decimal("1.00")},
        )
    assert not Payment.objects.exists()


def test_sales_cannot_record_split_payment(two_invoices, sales):
    with pytest.raises(PermissionDenied):
        services.record_split_payment(
            two_invoices[0].customer, by=sales, allocations={two_invoices[0].pk: Decimal("1")}
        )
    assert not Payment.objects.exists()
