"""The home page's queues: each role's own work first, as counts and short lists.

These read across orders, quotes and invoicing, so they sit with the wiring that composes
the home page; they only read. Each panel links to its full page when that page exists.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from invoicing.models import Invoice
from oms.accounts.links import first_url
from oms.accounts.roles import Role, has_role
from orders.models import Order
from quotes.models import Quote

ROWS_PER_PANEL = 5


@dataclass
class Row:
    label: str
    detail: str = ""
    href: str | None = None
    amount: Decimal | None = None
    currency: str = ""
    flag: str = ""  # a short warning shown beside the row (e.g. "12 days")


@dataclass
class Panel:
    key: str
    title: str
    count: int
    url: str | None
    empty: str
    rows: list[Row] = field(default_factory=list)
    total: Decimal | None = None
    currency: str = ""


def _order_href(order: Order) -> str | None:
    return first_url("orders:detail", number=order.number)


def _order_row(order: Order, detail: str, flag: str = "") -> Row:
    return Row(
        label=f"{order.number} · {order.title}",
        detail=detail,
        href=_order_href(order),
        amount=order.gross_total,
        currency=order.currency,
        flag=flag,
    )


def _days_since(moment) -> int:
    return (timezone.now() - moment).days if moment else 0


def _mine(user) -> bool:
    """Sales see their own book; managers and admins see everyone's."""
    return not has_role(user, Role.OPERATIONS, Role.FINANCE)


# --- sales --------------------------------------------------------------------------


def enquiries_panel(user) -> Panel:
    orders = Order.objects.visible_to(user).filter(status=Order.Status.ENQUIRY)
    rows = [
        _order_row(o, f"{o.customer.name} · received {o.enquiry_at:%d %b}")
        for o in orders.select_related("customer").order_by("enquiry_at")[:ROWS_PER_PANEL]
    ]
    return Panel(
        key="enquiries",
        title="My enquiries" if _mine(user) else "Enquiries",
        count=orders.count(),
        url=first_url("orders:enquiries"),
        empty="No open enquiries. New ones appear here as they arrive.",
        rows=rows,
    )


def quotes_awaiting_panel(user) -> Panel:
    quotes = Quote.objects.visible_to(user).awaiting_response()
    today = timezone.localdate()
    rows = []
    for quote in quotes.select_related("order__customer").order_by("sent_at")[:ROWS_PER_PANEL]:
        waited = _days_since(quote.sent_at)
        expiry = "expired" if quote.valid_until < today else f"valid to {quote.valid_until:%d %b}"
        rows.append(
            Row(
                label=f"{quote.reference} · {quote.order.title}",
                detail=f"{quote.order.customer.name} · {expiry}",
                href=first_url("quotes:detail", pk=quote.pk) or _order_href(quote.order),
                amount=quote.gross_total,
                currency=quote.order.currency,
                flag=f"{waited} days" if waited >= 3 else "",
            )
        )
    return Panel(
        key="quotes-awaiting",
        title="Quotes awaiting response",
        count=quotes.count(),
        url=first_url("quotes:awaiting"),
        empty="No quotes are waiting on a customer.",
        rows=rows,
    )


# --- operations -----------------------------------------------------------------------


def confirmed_queue_panel(user) -> Panel:
    orders = Order.objects.visible_to(user).filter(status=Order.Status.CONFIRMED)
    rows = []
    for o in orders.select_related("customer").order_by("confirmed_at")[:ROWS_PER_PANEL]:
        due = o.agreed_date or o.requested_date
        detail = o.customer.name + (f" · due {due:%d %b}" if due else "")
        late = due is not None and due < timezone.localdate()
        rows.append(_order_row(o, detail, flag="late" if late else ""))
    return Panel(
        key="confirmed-queue",
        title="Confirmed orders to start",
        count=orders.count(),
        url=first_url("orders:queue"),
        empty="Nothing waiting to start.",
        rows=rows,
    )


def in_progress_panel(user) -> Panel:
    orders = Order.objects.visible_to(user).filter(
        status__in=[Order.Status.IN_PROGRESS, Order.Status.ON_HOLD]
    )
    rows = []
    for o in orders.select_related("customer").order_by("status_changed_at")[:ROWS_PER_PANEL]:
        if o.status == Order.Status.ON_HOLD:
            resume = f" until {o.hold_resume_date:%d %b}" if o.hold_resume_date else ""
            rows.append(_order_row(o, f"{o.customer.name} · on hold{resume}", flag="on hold"))
        else:
            rows.append(_order_row(o, f"{o.customer.name} · started {o.in_progress_at:%d %b}"))
    return Panel(
        key="in-progress",
        title="In progress and on hold",
        count=orders.count(),
        url=first_url("orders:in_progress", "orders:queue"),
        empty="No work under way.",
        rows=rows,
    )


# --- finance --------------------------------------------------------------------------


def _invoice_row(invoice: Invoice, detail: str, flag: str = "") -> Row:
    return Row(
        label=f"{invoice} · {invoice.order.number}",
        detail=detail,
        href=first_url("invoicing:detail", pk=invoice.pk) or _order_href(invoice.order),
        amount=invoice.gross_total,
        currency=invoice.currency,
        flag=flag,
    )


def draft_invoices_panel(user) -> Panel:
    invoices = Invoice.objects.visible_to(user).filter(status=Invoice.Status.DRAFT)
    rows = [
        _invoice_row(i, f"{i.customer.name} · drafted {i.created_at:%d %b}")
        for i in invoices.select_related("customer", "order").order_by("created_at")[
            :ROWS_PER_PANEL
        ]
    ]
    return Panel(
        key="draft-invoices",
        title="Draft invoices to approve",
        count=invoices.count(),
        url=first_url("invoicing:drafts"),
        empty="No drafts waiting for approval.",
        rows=rows,
    )


def overdue_invoices_panel(user, today: date | None = None) -> Panel:
    today = today or timezone.localdate()
    invoices = Invoice.objects.visible_to(user).receivable().filter(due_date__lt=today)
    rows = []
    for i in invoices.select_related("customer", "order").order_by("due_date")[:ROWS_PER_PANEL]:
        outstanding = i.gross_total - i.amount_paid - i.amount_credited
        rows.append(
            Row(
                label=f"{i} · {i.order.number}",
                detail=f"{i.customer.name} · due {i.due_date:%d %b}",
                href=first_url("invoicing:detail", pk=i.pk) or _order_href(i.order),
                amount=outstanding,
                currency=i.currency,
                flag=f"{(today - i.due_date).days} days late",
            )
        )
    total = invoices.aggregate(
        owing=Sum("gross_total") - Sum("amount_paid") - Sum("amount_credited")
    )["owing"]
    return Panel(
        key="overdue-invoices",
        title="Overdue invoices",
        count=invoices.count(),
        url=first_url("invoicing:overdue", "invoicing:receivables"),
        empty="Nothing overdue.",
        rows=rows,
        total=total,
        currency=settings.DEFAULT_CURRENCY,
    )


def awaiting_invoice_panel(user) -> Panel:
    orders = (
        Order.objects.visible_to(user)
        .filter(status=Order.Status.DELIVERED)
        .exclude(invoices__kind=Invoice.Kind.FINAL, invoices__status=Invoice.Status.DRAFT)
    )
    rows = []
    for o in orders.select_related("customer").order_by("delivered_at")[:ROWS_PER_PANEL]:
        waited = _days_since(o.delivered_at)
        flag = f"{waited} days" if waited >= 2 else ""
        rows.append(_order_row(o, f"{o.customer.name} · delivered {o.delivered_at:%d %b}", flag))
    return Panel(
        key="awaiting-invoice",
        title="Delivered, not yet invoiced",
        count=orders.count(),
        url=first_url("invoicing:to_invoice", "orders:awaiting_invoice"),
        empty="Every delivered order has an invoice.",
        rows=rows,
    )


# --- manager --------------------------------------------------------------------------

PIPELINE_STATES = [
    Order.Status.ENQUIRY,
    Order.Status.QUOTED,
    Order.Status.CONFIRMED,
    Order.Status.IN_PROGRESS,
    Order.Status.ON_HOLD,
    Order.Status.DELIVERED,
    Order.Status.INVOICED,
]


def pipeline_panel(user) -> Panel:
    """Open orders by stage: how many and what they are worth, in one query."""
    by_state = {
        row["status"]: row
        for row in Order.objects.visible_to(user)
        .filter(status__in=PIPELINE_STATES)
        .values("status")
        .annotate(n=Count("id"), value=Sum("gross_total"))
    }
    pipeline_url = first_url("orders:pipeline")
    rows = []
    for state in PIPELINE_STATES:
        found = by_state.get(state, {})
        n = found.get("n", 0)
        rows.append(
            Row(
                label=state.label,
                detail=f"{n} order{'' if n == 1 else 's'}",
                href=pipeline_url,
                amount=found.get("value") or Decimal("0.00"),
                currency=settings.DEFAULT_CURRENCY,
            )
        )
    return Panel(
        key="pipeline",
        title="Pipeline",
        count=sum(r.get("n", 0) for r in by_state.values()),
        url=pipeline_url,
        empty="No open orders.",
        rows=rows,
        total=sum((r.get("value") or Decimal("0.00") for r in by_state.values()), Decimal("0.00")),
        currency=settings.DEFAULT_CURRENCY,
    )


def won_lost_summary(user, since: date | None = None) -> dict:
    """Orders confirmed and lost since `since` (default: the start of this month)."""
    since = since or timezone.localdate().replace(day=1)
    return Order.objects.visible_to(user).aggregate(
        won=Count("id", filter=Q(confirmed_at__date__gte=since)),
        lost=Count("id", filter=Q(lost_at__date__gte=since)),
    )


# --- per role ---------------------------------------------------------------------------

SALES_PANELS = (enquiries_panel, quotes_awaiting_panel)
OPERATIONS_PANELS = (confirmed_queue_panel, in_progress_panel)
FINANCE_PANELS = (draft_invoices_panel, overdue_invoices_panel, awaiting_invoice_panel)
MANAGER_PANELS = (pipeline_panel,)


def home_panels(user) -> list[Panel]:
    """The panels for `user`, their primary role's work first. Managers see every queue."""
    names = user.role_names
    everything = user.is_superuser or Role.MANAGER in names
    builders: list = []
    if everything:
        builders += [*MANAGER_PANELS, *SALES_PANELS, *OPERATIONS_PANELS, *FINANCE_PANELS]
    else:
        ordered = sorted(
            (role for role in (Role.SALES, Role.OPERATIONS, Role.FINANCE) if role in names),
            key=lambda role: role != user.primary_role,
        )
        by_role = {
            Role.SALES: SALES_PANELS,
            Role.OPERATIONS: OPERATIONS_PANELS,
            Role.FINANCE: FINANCE_PANELS,
        }
        for role in ordered:
            builders += by_role[role]
    return [build(user) for build in builders]
