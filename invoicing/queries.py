"""Reads about invoices and money: summaries and lists, never writes."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, Sum

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
    time: Decimal = ZERO  # billed for time entries, on top of the order total

    @property
    def net_invoiced(self) -> Decimal:
        return self.invoiced - self.credited

    @property
    def to_invoice(self) -> Decimal:
        return max(self.ordered - (self.net_invoiced - self.time), ZERO)

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
        Invoice.objects.filter(order=order)
        .select_related("credited_invoice")
        .annotate(
            time_gross=Sum(
                F("lines__net_amount") + F("lines__tax_amount"), filter=Q(lines__bills_time=True)
            )
        )
        .order_by("id")
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
        time=sum((i.time_gross or ZERO for i in counted), ZERO),
    )


def invoices_for_order(order: Order):
    """An order's invoices and credit notes, oldest first, with their lines."""
    return (
        Invoice.objects.filter(order=order)
        .select_related("credited_invoice")
        .prefetch_related("lines", "payments")
        .order_by("created_at", "id")
    )


QUEUE_PAGE_SIZE = 50

# Named positively (not "everything but draft, void, paid and credit notes") so PostgreSQL
# can read the receivable invoices straight from the partial index on their due dates.
RECEIVABLE_STATES = tuple(Invoice.OPEN_STATES)
BILLING_KINDS = tuple(k for k in Invoice.Kind if k != Invoice.Kind.CREDIT_NOTE)


@dataclass(frozen=True)
class QueueTotal:
    """One currency's share of a whole queue: how many invoices and how much money."""

    currency: str
    count: int
    amount: Decimal


def _page_of(queryset, rows, *, page_number, per_page: int) -> Page:
    """Page a queue on its ids alone (sorted in SQL), then fetch only that page's rows."""
    page = Paginator(queryset.values_list("pk", flat=True), per_page).get_page(page_number)
    found = rows.in_bulk(list(page.object_list))
    page.object_list = [found[pk] for pk in page.object_list if pk in found]
    return page


def _totals_by_currency(queryset, amount) -> list[QueueTotal]:
    """Count and money of a whole queue per currency, in one SQL aggregate."""
    sums = (
        queryset.order_by()
        .values("currency")
        .annotate(count=Count("pk"), amount=Sum(amount))
        .order_by("currency")
    )
    return [QueueTotal(s["currency"], s["count"], s["amount"] or ZERO) for s in sums]


def overdue_invoices(today, *, currency: str = ""):
    """Issued invoices past their due date with money owing, not disputed."""
    invoices = Invoice.objects.filter(
        status__in=RECEIVABLE_STATES, kind__in=BILLING_KINDS, due_date__lt=today, disputed=False
    ).filter(Q(promise_to_pay_date__isnull=True) | Q(promise_to_pay_date__lt=today))
    if currency:
        invoices = invoices.filter(currency=currency)
    return invoices.select_related("order", "customer").order_by("due_date", "id")


def overdue_page(today, *, page_number, currency: str = "", per_page: int = QUEUE_PAGE_SIZE):
    """One page of the overdue list, earliest due first."""
    queue = overdue_invoices(today, currency=currency)
    return _page_of(queue, queue, page_number=page_number, per_page=per_page)


def overdue_totals(today) -> list[QueueTotal]:
    """What the whole overdue list adds up to per currency (all currencies, so each total
    can be offered as a filter)."""
    return _totals_by_currency(overdue_invoices(today), _outstanding_expr())


def draft_review_queue(user, *, currency: str = ""):
    """Draft invoices waiting for finance, oldest delivery first: order, customer, amount,
    days since delivery (the invoicing lag) and whom to ask (the order's owner)."""
    drafts = (
        Invoice.objects.visible_to(user)
        .filter(status=Invoice.Status.DRAFT)
        .exclude(kind=Invoice.Kind.CREDIT_NOTE)
    )
    if currency:
        drafts = drafts.filter(currency=currency)
    return (
        drafts.select_related("order", "order__owner", "customer")
        .annotate(delivered_at=F("order__delivered_at"))
        .order_by(F("order__delivered_at").asc(nulls_last=True), "created_at", "id")
    )


def draft_review_page(user, *, page_number, currency: str = "", per_page: int = QUEUE_PAGE_SIZE):
    """One page of the draft review queue, longest since delivery first."""
    queue = draft_review_queue(user, currency=currency)
    return _page_of(queue, queue.order_by(), page_number=page_number, per_page=per_page)


def draft_review_totals(user) -> list[QueueTotal]:
    """How many drafts wait and what they bill, per currency, over the whole queue."""
    return _totals_by_currency(draft_review_queue(user), "gross_total")


AGE_BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
AGE_LABELS = {
    "current": "Current",
    "d1_30": "1-30 days",
    "d31_60": "31-60 days",
    "d61_90": "61-90 days",
    "d90_plus": "90+ days",
}


def _outstanding_expr():
    from django.db.models import DecimalField, ExpressionWrapper, F

    return ExpressionWrapper(
        F("gross_total") - F("amount_paid") - F("amount_credited"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def aged_receivables(today):
    """Money owing per customer and currency, by days past due: current (not yet due),
    1-30, 31-60, 61-90 and 90+; one SQL aggregation. Returns (rows, totals per currency)."""
    from datetime import timedelta

    owing = _outstanding_expr()

    def bucket(**due):
        return Sum(owing, filter=Q(**due), default=ZERO)

    rows = list(
        Invoice.objects.receivable()
        .values("customer_id", "customer__name", "currency")
        .annotate(
            current=bucket(due_date__gte=today),
            d1_30=bucket(due_date__lt=today, due_date__gte=today - timedelta(days=30)),
            d31_60=bucket(
                due_date__lt=today - timedelta(days=30), due_date__gte=today - timedelta(days=60)
            ),
            d61_90=bucket(
                due_date__lt=today - timedelta(days=60), due_date__gte=today - timedelta(days=90)
            ),
            d90_plus=bucket(due_date__lt=today - timedelta(days=90)),
            total=Sum(owing, default=ZERO),
        )
        .filter(total__gt=0)
        .order_by("-total", "customer__name")
    )
    totals: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        sums = totals.setdefault(row["currency"], {key: ZERO for key in (*AGE_BUCKETS, "total")})
        for key in (*AGE_BUCKETS, "total"):
            sums[key] += row[key]
    return rows, totals


def days_sales_outstanding(today, *, days: int = 90) -> Decimal | None:
    """DSO: receivables now / invoiced in the last `days` days x `days`, in the base
    currency mix as stored (one figure; None when nothing was invoiced)."""
    from datetime import timedelta

    receivable = Invoice.objects.receivable().aggregate(
        total=Sum(_outstanding_expr(), default=ZERO)
    )["total"]
    invoiced = (
        Invoice.objects.issued()
        .exclude(kind=Invoice.Kind.CREDIT_NOTE)
        .exclude(status=Invoice.Status.VOID)
        .filter(issue_date__gt=today - timedelta(days=days), issue_date__lte=today)
        .aggregate(total=Sum("gross_total", default=ZERO))["total"]
    )
    if not invoiced:
        return None
    return (receivable / invoiced * days).quantize(Decimal("0.1"))


def open_invoices_for_customer(customer):
    """A customer's issued invoices with money owing, oldest due first."""
    return (
        Invoice.objects.receivable()
        .filter(customer=customer)
        .select_related("order")
        .order_by("due_date", "id")
    )


def receipts_for_customer(customer):
    """A customer's receipts, newest first, with the payments they made."""
    from invoicing.models import Receipt

    return (
        Receipt.objects.filter(customer=customer)
        .select_related("recorded_by")
        .prefetch_related("payments__invoice")
        .order_by("-date", "-id")
    )


def time_entries_for_order(order: Order):
    """An order's time entries in date order, with the invoice each went on."""
    from invoicing.models import TimeEntry

    return TimeEntry.objects.filter(order=order).select_related("invoice_line__invoice")
