"""Overdue invoices, aged receivables per customer with totals and CSV, and DSO."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from invoicing import queries, services

pytestmark = pytest.mark.django_db

TODAY = date.today()


def _issued_on(day, order_at, finance, **fields):
    with time_machine.travel(day, tick=False):
        draft = services.draft_invoice_for_order(order_at("delivered", **fields), by=finance)
        return services.approve_invoice(draft, by=finance)


def test_aged_receivables_buckets_by_days_past_due(order_at, finance):
    # Terms default to 30 days: issued 30+N days before today means N days overdue.
    ages = {0: "current", 10: "d1_30", 45: "d31_60", 75: "d61_90", 120: "d90_plus"}
    invoices = {
        bucket: _issued_on(TODAY - timedelta(days=30 + days), order_at, finance)
        for days, bucket in ages.items()
    }
    rows, totals = queries.aged_receivables(TODAY)
    assert len(rows) == len(ages)  # one customer per order
    for bucket, invoice in invoices.items():
        row = next(r for r in rows if r["customer_id"] == invoice.customer_id)
        assert row[bucket] == Decimal("120.00")
        assert row["total"] == Decimal("120.00")
    assert totals["GBP"]["total"] == Decimal("600.00")
    assert all(totals["GBP"][b] == Decimal("120.00") for b in queries.AGE_BUCKETS)


def test_part_payment_and_credit_reduce_what_is_aged(order_at, finance):
    invoice = _issued_on(TODAY - timedelta(days=40), order_at, finance)
    services.record_payment(invoice, by=finance, amount=Decimal("20.00"))
    invoice.refresh_from_db()
    services.create_credit_note(invoice, by=finance, reason="Short", amount=Decimal("10.00"))
    rows, totals = queries.aged_receivables(TODAY)
    assert rows[0]["d1_30"] == Decimal("90.00")
    assert totals["GBP"]["total"] == Decimal("90.00")


def test_overdue_lists_past_due_but_not_disputed(order_at, finance):
    late = _issued_on(TODAY - timedelta(days=45), order_at, finance)
    disputed = _issued_on(TODAY - timedelta(days=45), order_at, finance)
    _issued_on(TODAY - timedelta(days=5), order_at, finance)
    services.dispute_invoice(disputed, by=finance, reason="Wrong price")
    assert [i.pk for i in queries.overdue_invoices(TODAY)] == [late.pk]


def test_dso_is_receivables_over_recent_sales(order_at, finance):
    paid = _issued_on(TODAY - timedelta(days=10), order_at, finance)
    _issued_on(TODAY - timedelta(days=20), order_at, finance)
    services.record_payment(paid, by=finance, amount=paid.gross_total)
    # 120 owing of 240 invoiced in 90 days: 45 days.
    assert queries.days_sales_outstanding(TODAY) == Decimal("45.0")


def test_dso_is_none_without_sales():
    assert queries.days_sales_outstanding(TODAY) is None


def test_receivables_csv_export(client, order_at, finance):
    invoice = _issued_on(TODAY - timedelta(days=50), order_at, finance)
    client.force_login(finance)
    response = client.get(reverse("invoicing:receivables"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("Customer,Currency,Current,1-30 days")
    assert lines[1].startswith(f"{invoice.customer.name},GBP,0.00,120.00")
    assert lines[-1] == "Total,GBP,0.00,120.00,0.00,0.00,0.00,120.00"


@pytest.mark.parametrize("rows", [10, 100])
def test_receivables_and_overdue_pages_pin_queries(
    client, order_at, finance, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        _issued_on(TODAY - timedelta(days=60), order_at, finance)
    client.force_login(finance)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("invoicing:receivables"))
    with django_assert_max_num_queries(12):
        overdue = client.get(reverse("invoicing:overdue"))
    assert page.status_code == 200 and overdue.status_code == 200
    assert overdue.content.count(b"data-invoice=") == min(rows, 50)  # one page
