"""Beside its stage, every order shows how much is delivered, invoiced and paid."""

from decimal import Decimal

import pytest

from invoicing.services import (
    approve_invoice,
    create_credit_note,
    create_deposit_invoice,
    draft_invoice_for_order,
    record_payment,
)
from orders.models import Order
from orders.services import deliver_order
from tests.factories import advance_order, place_order

pytestmark = pytest.mark.django_db


def test_a_new_order_shows_nothing_done(sales):
    order = place_order(sales)
    assert order.progress == {"delivered": 0, "invoiced": 0, "paid": 0}


def test_an_order_without_lines_shows_nothing_done(sales):
    assert place_order(sales, lines=[]).progress == {"delivered": 0, "invoiced": 0, "paid": 0}


def test_deposit_invoiced_and_paid_shows_in_the_shares(sales, manager, finance):
    order = advance_order(place_order(sales), "confirmed", by=manager)  # 120.00 gross
    deposit = create_deposit_invoice(order, by=finance, percent=Decimal("25"))
    order = Order.objects.get(pk=order.pk)
    assert order.invoiced_share == 0  # a draft is not invoiced yet
    deposit = approve_invoice(deposit, by=finance)
    record_payment(deposit, by=finance, amount=Decimal("10.00"))
    order = Order.objects.prefetch_related("invoices", "lines").get(pk=order.pk)
    assert order.invoiced_amount == Decimal("30.00")
    assert order.paid_amount == Decimal("10.00")
    assert order.progress == {"delivered": 0, "invoiced": 25, "paid": 8}


def test_full_cycle_reaches_one_hundred_percent(sales, manager, operations, finance):
    order = advance_order(place_order(sales), "in_progress", by=manager)
    order = deliver_order(order, by=operations, received_by="Stores")
    invoice = approve_invoice(draft_invoice_for_order(order), by=finance)
    record_payment(invoice, by=finance, amount=invoice.gross_total)
    order = Order.objects.get(pk=order.pk)
    assert order.status == Order.Status.PAID
    assert order.progress == {"delivered": 100, "invoiced": 100, "paid": 100}


def test_credit_note_reduces_the_invoiced_share(sales, manager, operations, finance):
    order = advance_order(place_order(sales), "delivered", by=manager)
    invoice = approve_invoice(draft_invoice_for_order(order), by=finance)
    create_credit_note(invoice, by=finance, reason="One damaged", amount=Decimal("60.00"))
    order = Order.objects.get(pk=order.pk)
    assert order.invoiced_amount == Decimal("60.00")
    assert order.progress["invoiced"] == 50
    assert order.status == Order.Status.DELIVERED


def test_progress_reads_prefetched_rows_without_more_queries(
    sales, manager, finance, django_assert_num_queries
):
    order = advance_order(place_order(sales), "delivered", by=manager)
    approve_invoice(draft_invoice_for_order(order), by=finance)
    order = Order.objects.prefetch_related("invoices", "lines").get(pk=order.pk)
    with django_assert_num_queries(0):
        assert order.progress == {"delivered": 100, "invoiced": 100, "paid": 0}
