"""Issued invoices cannot change: the models refuse, and PostgreSQL refuses what skips them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from invoicing import services
from invoicing.models import Invoice, InvoiceLine, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(order_at, finance):
    draft = services.draft_invoice_for_order(order_at("delivered"))
    return services.approve_invoice(draft, by=finance)


def _sql(statement: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


# --- the ORM layer --------------------------------------------------------------------------


def test_orm_refuses_changing_money_of_issued_invoice(issued):
    invoice = Invoice.objects.get(pk=issued.pk)
    invoice.gross_total = Decimal("1.00")
    with pytest.raises(ValidationError, match="correct it with a credit note"):
        invoice.save()
    assert Invoice.objects.get(pk=issued.pk).gross_total == Decimal("120.00")


def test_orm_refuses_changing_number_of_issued_invoice(issued):
    invoice = Invoice.objects.get(pk=issued.pk)
    invoice.number = "INV-1999-00001"
    with pytest.raises(ValidationError, match="number"):
        invoice.save()


def test_orm_allows_collections_fields_on_issued_invoice(issued):
    invoice = Invoice.objects.get(pk=issued.pk)
    invoice.dispute_reason = "noted"
    invoice.save()
    assert Invoice.objects.get(pk=issued.pk).dispute_reason == "noted"


def test_orm_refuses_editing_lines_of_issued_invoice(issued):
    line = issued.lines.first()
    line.unit_price = Decimal("1.00")
    with pytest.raises(ValidationError, match="issued invoice"):
        line.save()
    with pytest.raises(ValidationError, match="issued invoice"):
        line.delete()
    with pytest.raises(ValidationError, match="issued invoice"):
        InvoiceLine(invoice=issued, description="Extra", quantity=1, unit_price=1).save()


def test_orm_never_deletes_invoices_or_payments(issued, finance):
    payment = services.record_payment(issued, by=finance, amount=Decimal("5"))
    with pytest.raises(ValidationError, match="never deleted"):
        Invoice.objects.get(pk=issued.pk).delete()
    with pytest.raises(ValidationError, match="never deleted"):
        Invoice.objects.filter(pk=issued.pk).delete()
    with pytest.raises(ValidationError, match="never deleted"):
        payment.delete()
    with pytest.raises(ValidationError, match="never deleted"):
        Payment.objects.all().delete()
    assert Invoice.objects.filter(pk=issued.pk).exists()


def test_orm_refuses_bulk_state_writes(issued):
    with pytest.raises(TypeError, match="services"):
        Invoice.objects.filter(pk=issued.pk).update(status="draft")
    with pytest.raises(TypeError):
        InvoiceLine.objects.filter(invoice=issued).update(unit_price=1)


# --- the database layer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("gross_total", 1),
        ("net_total", 1),
        ("tax_total", 0),
        ("number", "INV-1999-00001"),
        ("issue_date", "2001-01-01"),
        ("status", "draft"),
    ],
)
def test_trigger_refuses_raw_update_of_issued_invoice(issued, column, value):
    with pytest.raises(IntegrityError, match="cannot be changed"):
        _sql(f"UPDATE invoicing_invoice SET {column} = %s WHERE id = %s", value, issued.pk)  # noqa: S608
    assert Invoice.objects.get(pk=issued.pk).gross_total == Decimal("120.00")


def test_trigger_refuses_customer_change_of_issued_invoice(issued):
    from tests.factories import CustomerFactory

    other = CustomerFactory()
    with pytest.raises(IntegrityError, match="cannot be changed"):
        _sql("UPDATE invoicing_invoice SET customer_id = %s WHERE id = %s", other.pk, issued.pk)


def test_trigger_refuses_queryset_update_of_issued_totals(issued):
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=issued.pk).update(gross_total=Decimal("1"))


def test_trigger_allows_payment_columns_on_issued_invoice(issued):
    _sql("UPDATE invoicing_invoice SET promise_to_pay_date = '2030-01-01' WHERE id = %s", issued.pk)
    assert str(Invoice.objects.get(pk=issued.pk).promise_to_pay_date) == "2030-01-01"


def test_trigger_refuses_raw_delete_of_invoice(issued):
    with pytest.raises(IntegrityError, match="never deleted"):
        _sql("DELETE FROM invoicing_invoice WHERE id = %s", issued.pk)


def test_trigger_refuses_raw_line_insert_update_delete_on_issued_invoice(issued):
    line = issued.lines.first()
    with pytest.raises(IntegrityError, match="issued invoice"):
        _sql("UPDATE invoicing_invoiceline SET unit_price = 1 WHERE id = %s", line.pk)
    with pytest.raises(IntegrityError, match="issued invoice"):
        _sql("DELETE FROM invoicing_invoiceline WHERE id = %s", line.pk)
    with pytest.raises(IntegrityError, match="issued invoice"):
        _sql(
            "INSERT INTO invoicing_invoiceline (invoice_id, position, description, quantity,"
            " unit_price, discount_percent, tax_rate, net_amount, tax_amount)"
            " VALUES (%s, 9, 'Sneaked in', 1, 1, 0, 20, 1, 0.2)",
            issued.pk,
        )
    assert issued.lines.count() == 1


def test_trigger_allows_raw_changes_to_drafts(order_at):
    draft = services.draft_invoice_for_order(order_at("delivered"))
    line = draft.lines.first()
    _sql("UPDATE invoicing_invoiceline SET description = 'Renamed' WHERE id = %s", line.pk)
    _sql("UPDATE invoicing_invoice SET gross_total = 5 WHERE id = %s", draft.pk)
    assert InvoiceLine.objects.get(pk=line.pk).description == "Renamed"
