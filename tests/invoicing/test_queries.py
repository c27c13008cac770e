from decimal import Decimal

import pytest

from invoicing import services
from invoicing.queries import billing_summary
from orders.services import deliver_order

pytestmark = pytest.mark.django_db

D = Decimal


def test_billing_summary_of_a_fresh_order(order_at):
    summary = billing_summary(order_at("confirmed"))
    assert summary.ordered == D("120.00")
    assert summary.delivered == summary.invoiced == summary.paid == D("0.00")
    assert summary.to_invoice == D("120.00")
    assert summary.delivered_share == summary.invoiced_share == 0


def test_billing_summary_through_deposit_delivery_credit_and_payment(order_at, finance):
    order = order_at("in_progress")
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=D("25")), by=finance
    )
    services.record_payment(deposit, by=finance, amount=deposit.gross_total)
    summary = billing_summary(order)
    assert (summary.invoiced, summary.paid, summary.outstanding) == (
        D("30.00"),
        D("30.00"),
        D("0.00"),
    )
    assert summary.invoiced_share == D("0.25")
    order = deliver_order(order, by=None)
    final = services.approve_invoice(services.draft_invoice_for_order(order), by=finance)
    services.create_credit_note(final, by=finance, reason="Scratched", amount=D("10"))
    services.record_payment(final, by=finance, amount=D("50"))
    summary = billing_summary(order)
    assert summary.delivered == D("120.00")
    assert summary.delivered_share == 1
    assert summary.invoiced == D("120.00")
    assert summary.credited == D("10.00")
    assert summary.net_invoiced == D("110.00")
    assert summary.paid == D("80.00")
    assert summary.outstanding == D("30.00")
    assert summary.to_invoice == D("10.00")


def test_billing_summary_leaves_out_void_invoices(order_at, finance):
    order = order_at("delivered")
    invoice = services.approve_invoice(services.draft_invoice_for_order(order), by=finance)
    services.void_invoice(invoice, by=finance, reason="Wrong address")
    summary = billing_summary(order)
    assert summary.invoiced == summary.credited == summary.outstanding == D("0.00")


def test_billing_summary_query_count(order_at, finance, django_assert_max_num_queries):
    order = order_at("delivered")
    services.approve_invoice(services.draft_invoice_for_order(order), by=finance)
    with django_assert_max_num_queries(3):
        billing_summary(order)
