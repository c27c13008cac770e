"""Reads about invoices and money: summaries and lists, never writes."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from invoicing.models import Invoice, Payment
from oms import money
from orders.models import Order

ZERO = money.ZERO


@dataclass(frozen=True)
class BillingSummary:
    """Where an order stands in money, all gross in the order's currency.

    invoiced counts issued invoices (not void ones); credited counts credit notes against
    them; outstanding is what customers still owe on them.
    """

    currency: str
    ordered: Decimal
    delivered: Decimal
    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    outstanding: Decimal
    draft: Decimal

    @property
    def net_invoiced(self) -> Decimal:
        return self.invoiced - self.credited

    @property
    def to_invoice(self) -> Decimal:
        return max(self.ordered - self.net_invoiced, ZERO)

    @property
    def delivered_share(self) -> Decimal:
        return _share(self.delivered, self.ordered)

    @property
    def invoiced_share(self) -> Decimal:
        return _share(self.net_invoiced, self.ordered)

    @property
    def paid_share(self) -> Decimal:
        """Share of what is to be collected (invoiced less credits) that has been paid."""
        return _share(self.paid, self.net_invoiced)


def _share(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return Decimal("0")
    return min(max(part / whole, Decimal("0")), Decimal("1")).quantize(Decimal("0.0001"))


def billing_summary(order: Order) -> BillingSummary:
    """Ordered, delivered, invoiced, credited, paid and outstanding for one order, in two
    queries (lines, invoices) plus one for payments."""
    delivered = ZERO
    for line in order.lines.all():
        if line.quantity > 0:
            share = min(line.delivered_quantity, line.quantity) / line.quantity
            delivered += money.to_money(line.gross_amount * share)
    invoices = list(
        Invoice.objects.filter(order=order).select_related("credited_invoice").order_by("id")
    )
    counted = [i for i in invoices if i.is_issued and not i.is_credit_note]
    credits = [
        i for i in invoices if i.is_credit_note and i.credited_invoice.status != Invoice.Status.VOID
    ]
    paid = Payment.objects.filter(invoice__order=order).aggregate(total=Sum("amount"))["total"]
    return BillingSummary(
        currency=order.currency,
        ordered=order.gross_total,
        delivered=delivered,
        invoiced=sum((i.gross_total for i in counted), ZERO),
        credited=sum((i.gross_total for i in credits), ZERO),
        paid=paid or ZERO,
        outstanding=sum((i.outstanding for i in counted), ZERO),
        draft=sum(
            (
                i.gross_total
                for i in invoices
                if i.status == Invoice.Status.DRAFT and not i.is_credit_note
            ),
            ZERO,
        ),
    )


def invoices_for_order(order: Order):
    """An order's invoices and credit notes, oldest first, with their lines."""
    return (
        Invoice.objects.filter(order=order)
        .select_related("credited_invoice")
        .prefetch_related("lines", "payments")
        .order_by("created_at", "id")
    )


def overdue_invoices(today):
    """Issued invoices past their due date with money owing, not disputed."""
    return (
        Invoice.objects.receivable()
        .filter(due_date__lt=today, disputed=False)
        .filter(Q(promise_to_pay_date__isnull=True) | Q(promise_to_pay_date__lt=today))
        .select_related("order", "customer")
        .order_by("due_date", "id")
    )
