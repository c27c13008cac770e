"""Order reads: the order page, one-box search and the pipeline board.

Everything here is one or a few SQL statements whatever the number of rows: aggregates
and window functions run in PostgreSQL, lists are prefetched, nothing loops over orders
issuing queries.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Contact, Customer
from orders.models import Order, TimelineEvent

# Invoice states named as strings: orders sits below invoicing and does not import it.
OPEN_INVOICE_STATES = ("approved", "sent", "part_paid")

# The stages of the pipeline board, in lifecycle order (closed states are not in the pipe).
PIPELINE_STAGES = (
    Order.Status.ENQUIRY,
    Order.Status.QUOTED,
    Order.Status.CONFIRMED,
    Order.Status.IN_PROGRESS,
    Order.Status.ON_HOLD,
    Order.Status.DELIVERED,
    Order.Status.INVOICED,
)

# Stage entry timestamps shown on the order page, in lifecycle order.
STAGE_TIMESTAMPS = (
    (Order.Status.ENQUIRY, "enquiry_at"),
    (Order.Status.QUOTED, "quoted_at"),
    (Order.Status.CONFIRMED, "confirmed_at"),
    (Order.Status.IN_PROGRESS, "in_progress_at"),
    (Order.Status.ON_HOLD, "on_hold_at"),
    (Order.Status.DELIVERED, "delivered_at"),
    (Order.Status.INVOICED, "invoiced_at"),
    (Order.Status.PAID, "paid_at"),
    (Order.Status.LOST, "lost_at"),
    (Order.Status.CANCELLED, "cancelled_at"),
)


# --- the order page -------------------------------------------------------------------


def order_for_page(user, number: str) -> QuerySet:
    """The one order `number` visible to `user`, with everything its page shows prefetched."""
    return (
        Order.objects.visible_to(user)
        .filter(number=number)
        .select_related("customer", "customer__account_manager", "owner", "assignee")
        .prefetch_related(
            "lines__product",
            "customer__contacts",
            "quotes",
            Prefetch(
                "invoices",
                queryset=apps.get_model("invoicing", "Invoice")
                .objects.select_related("credited_invoice")
                .prefetch_related("payments")
                .order_by("created_at", "id"),
            ),
            Prefetch("timeline", queryset=TimelineEvent.objects.select_related("actor")),
        )
    )


def stage_history(order: Order) -> list[dict]:
    """When the order entered each stage it has reached (from its own timestamps)."""
    return [
        {"status": status, "label": status.label, "at": getattr(order, attribute)}
        for status, attribute in STAGE_TIMESTAMPS
        if getattr(order, attribute)
    ]


def next_scheduled_action(order: Order):
    """The next pending follow-up or reminder for this order, when automation is installed."""
    if not apps.is_installed("oms.automation"):
        return None
    try:
        model = apps.get_model("automation", "ScheduledAction")
    except LookupError:
        return None
    names = {f.name for f in model._meta.get_fields()}
    if not {"due_at", "status"} <= names:
        return None
    pending = model.objects.filter(status="pending")
    if "order" in names or "order_id" in {getattr(f, "attname", "") for f in model._meta.fields}:
        pending = pending.filter(order_id=order.pk)
    elif {"subject_type", "subject_id"} <= names:
        pending = pending.filter(subject_type="orders.order", subject_id=order.pk)
    else:
        return None
    if "rule" in names:
        pending = pending.select_related("rule")
    return pending.order_by("due_at").first()


def customer_links(order: Order) -> QuerySet:
    """Links sent to the customer for this order (tracking, quotes, invoices, changes)."""
    from oms.links.models import CustomerLink

    return CustomerLink.objects.filter(order_id=order.pk).select_related("created_by", "revoked_by")


# --- one-box search ---------------------------------------------------------------------

ORDER_NUMBER = re.compile(r"^ORD-\d{4}-\d+$", re.IGNORECASE)
QUOTE_REFERENCE = re.compile(r"^(ORD-\d{4}-\d+)-Q(\d+)$", re.IGNORECASE)
INVOICE_NUMBER = re.compile(r"^(INV|CN)-\d{4}-\d+$", re.IGNORECASE)
ORDER_DIGITS = re.compile(r"^\d{1,6}$")
MIN_PHONE_DIGITS = 6
MAX_CUSTOMERS = 200  # a broader name match than this asks the caller to type more
RECENT_YEARS = 5


@dataclass
class SearchResult:
    query: str
    orders: list = field(default_factory=list)
    exact: Order | None = None  # an exact key (order, quote or invoice number) matched
    truncated: bool = False


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def search_orders(user, query: str, *, limit: int = 50) -> SearchResult:
    """Orders visible to `user` matching `query` on any key a caller might read out:
    order number (or just its digits), quote reference, invoice or credit-note number, PO
    reference, customer name, contact email or phone.

    Exact keys are unique-index lookups. Otherwise one query finds the matching customers
    (a small table: name, contact email and phone) and one fetches their orders together
    with number and PO matches, each branch an index scan."""
    query = (query or "").strip()
    result = SearchResult(query=query)
    if not query:
        return result
    visible = Order.objects.visible_to(user)
    upper = query.upper()

    exact_key = None
    if ORDER_NUMBER.match(query):
        exact_key = Q(number=upper)
    elif match := QUOTE_REFERENCE.match(query):
        exact_key = Q(number=match.group(1).upper(), quotes__version=int(match.group(2)))
    elif INVOICE_NUMBER.match(query):
        exact_key = Q(invoices__number=upper)
    if exact_key is not None:
        exact = list(visible.filter(exact_key).select_related("customer", "owner")[:2])
        if len(exact) == 1:
            result.exact = exact[0]
            result.orders = exact
            return result

    numbers = [upper]
    if ORDER_DIGITS.match(query):
        # "42" or "00042" read out over the phone: that number in the recent years.
        year = timezone.localdate().year
        numbers += [f"ORD-{y}-{int(query):05d}" for y in range(year, year - RECENT_YEARS, -1)]
    contact_match = Q(email__iexact=query)
    digits = _digits(query)
    if len(digits) >= MIN_PHONE_DIGITS:
        contact_match |= Q(phone__regex=r"\D*".join(digits))
    customer_ids = list(
        Customer.objects.filter(
            Q(name__icontains=query)
            | Q(pk__in=Contact.objects.filter(contact_match).values("customer_id"))
        )
        .order_by()
        .values_list("pk", flat=True)[:MAX_CUSTOMERS]
    )
    condition = (
        Q(number__in=numbers)
        | Q(po_reference__in={query, upper, query.lower()})
        | Q(customer_id__in=customer_ids)
    )
    matches = list(
        visible.filter(condition)
        .select_related("customer", "owner")
        .order_by("-created_at", "-id")[: limit + 1]
    )
    result.truncated = len(matches) > limit
    result.orders = matches[:limit]
    return result


# --- pipeline -------------------------------------------------------------------------


def stall_days() -> dict[str, int]:
    return settings.PIPELINE_STALL_DAYS


def _open_invoices():
    return apps.get_model("invoicing", "Invoice").objects.filter(
        order=OuterRef("pk"), status__in=OPEN_INVOICE_STATES
    )


def stalled_condition(now: datetime) -> Q:
    """Past the stage's threshold; for invoiced, an open invoice that many days overdue.
    The overdue check is an EXISTS evaluated only for invoiced orders."""
    thresholds = stall_days()
    today = timezone.localdate(now)
    condition = Q(pk__in=[])
    for stage in PIPELINE_STAGES:
        days = thresholds.get(stage)
        if days is None:
            continue
        if stage == Order.Status.INVOICED:
            overdue = _open_invoices().filter(due_date__lt=today - timedelta(days=days))
            condition |= Q(status=stage) & Q(Exists(overdue))
        else:
            condition |= Q(status=stage, status_changed_at__lt=now - timedelta(days=days))
    return condition


def pipeline_orders(user, *, now: datetime | None = None) -> QuerySet:
    """Open orders in the pipe, annotated with time in stage, oldest open due date and
    whether they are stalled."""
    now = now or timezone.now()
    oldest_due = _open_invoices().order_by("due_date").values("due_date")[:1]
    return (
        Order.objects.visible_to(user)
        .filter(status__in=PIPELINE_STAGES)
        .annotate(
            time_in_stage=ExpressionWrapper(
                Value(now) - F("status_changed_at"), output_field=DurationField()
            ),
            oldest_due=Subquery(oldest_due),
            stalled=Case(When(stalled_condition(now), then=Value(True)), default=Value(False)),
        )
    )


def pipeline_summary(user, *, now: datetime | None = None) -> list[dict]:
    """Per stage: count, value, average and longest time in stage, stalled count.
    One aggregate query grouped by stage."""
    now = now or timezone.now()
    rows = (
        Order.objects.visible_to(user)
        .filter(status__in=PIPELINE_STAGES)
        .values("status")
        .annotate(
            count=Count("pk"),
            value=Coalesce(Sum("gross_total"), Decimal("0.00")),
            oldest_change=Min("status_changed_at"),
            average_age=Avg(
                ExpressionWrapper(Value(now) - F("status_changed_at"), output_field=DurationField())
            ),
            stalled=Count("pk", filter=stalled_condition(now)),
        )
        .order_by()
    )
    by_stage = {row["status"]: row for row in rows}
    thresholds = stall_days()
    summary = []
    for stage in PIPELINE_STAGES:
        row = by_stage.get(stage, {})
        oldest = row.get("oldest_change")
        summary.append(
            {
                "status": stage,
                "label": stage.label,
                "count": row.get("count", 0),
                "value": row.get("value", Decimal("0.00")),
                "average_age": row.get("average_age"),
                "longest_age": (now - oldest) if oldest else None,
                "average_days": _days(row.get("average_age")),
                "longest_days": _days((now - oldest) if oldest else None),
                "stalled": row.get("stalled", 0),
                "threshold_days": thresholds.get(stage),
            }
        )
    return summary


def _days(age: timedelta | None) -> Decimal | None:
    if age is None:
        return None
    return (Decimal(age.total_seconds()) / Decimal(86400)).quantize(Decimal("0.1"))


def pipeline_board(user, *, per_stage: int = 25, now: datetime | None = None) -> dict[str, list]:
    """The longest-waiting `per_stage` orders of each stage: one short index scan per
    stage (status, status_changed_at), so the board costs the same at any volume."""
    orders = pipeline_orders(user, now=now).select_related("customer", "owner")
    return {
        stage: list(orders.filter(status=stage).order_by("status_changed_at", "id")[:per_stage])
        for stage in PIPELINE_STAGES
    }


def pipeline_list(
    user, *, stage: str = "", owner_id: int | None = None, stalled_only: bool = False, now=None
) -> QuerySet:
    """Every open order in the pipe for the list view, longest waiting first (stalled ones
    are flagged; `stalled_only` narrows to them)."""
    orders = pipeline_orders(user, now=now).select_related("customer", "owner", "assignee")
    if stage:
        orders = orders.filter(status=stage)
    if owner_id:
        orders = orders.filter(owner_id=owner_id)
    if stalled_only:
        orders = orders.filter(stalled=True)
    return orders.order_by("status_changed_at", "id")


def pipeline_page(user, *, page_number, per_page: int = 50, now=None, **filters) -> Page:
    """One page of the list view. The ordering and paging run on the orders table alone
    (ids only); the page's rows are then fetched with their customer and people."""
    ids = pipeline_list(user, now=now, **filters).values_list("pk", flat=True)
    page = Paginator(ids, per_page).get_page(page_number)
    rows = (
        pipeline_orders(user, now=now)
        .select_related("customer", "owner", "assignee")
        .in_bulk(list(page.object_list))
    )
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    return page


def pipeline_owners(user) -> QuerySet:
    """Owners with open orders in the pipe, for the list filter."""
    user_model = Order._meta.get_field("owner").related_model
    return user_model.objects.filter(
        pk__in=Order.objects.visible_to(user).filter(status__in=PIPELINE_STAGES).values("owner_id")
    ).order_by("first_name", "last_name", "email")


# --- operations: the confirmed-orders queue and the dispatch board -------------------------

QUEUE_STATES = (Order.Status.CONFIRMED, Order.Status.IN_PROGRESS, Order.Status.ON_HOLD)
QUEUE_SORTS = {"agreed": ("agreed_date", "number"), "-agreed": ("-agreed_date", "number")}


def operations_queue(
    *,
    assignee: str = "",
    kind: str = "",
    date_from=None,
    date_to=None,
    sort: str = "agreed",
    today=None,
) -> QuerySet:
    """Every confirmed, in-progress and on-hold order with what operations need at a glance,
    in one query: customer, assignee, agreed date (overdue flagged), time in stage and the
    special-instructions flag. `assignee` is a user id, or "none" for unassigned orders."""
    today = today or timezone.localdate()
    orders = (
        Order.objects.filter(status__in=QUEUE_STATES)
        .select_related("customer", "assignee")
        .annotate(
            overdue=Case(
                When(agreed_date__lt=today, then=Value(True)),
                default=Value(False),
            ),
            has_instructions=Case(
                When(special_instructions="", then=Value(False)),
                default=Value(True),
            ),
        )
    )
    if assignee == "none":
        orders = orders.filter(assignee__isnull=True)
    elif assignee:
        orders = orders.filter(assignee_id=assignee)
    if kind:
        orders = orders.filter(kind=kind)
    if date_from:
        orders = orders.filter(agreed_date__gte=date_from)
    if date_to:
        orders = orders.filter(agreed_date__lte=date_to)
    order_by = QUEUE_SORTS.get(sort, QUEUE_SORTS["agreed"])
    first = F(order_by[0].lstrip("-"))
    first = (
        first.desc(nulls_last=True) if order_by[0].startswith("-") else first.asc(nulls_last=True)
    )
    return orders.order_by(first, order_by[1])


def operations_queue_page(*, page_number, per_page: int = 50, **filters) -> Page:
    """One page of the work queue, in the queue's own order: a count and one page of rows
    (two queries), however long the queue grows. Filters are `operations_queue`'s."""
    return Paginator(operations_queue(**filters), per_page).get_page(page_number)


def dispatch_board(day, *, engineer: str = "") -> list[dict]:
    """The field visits on `day`, grouped by engineer (two queries)."""
    FieldVisit = apps.get_model("orders", "FieldVisit")
    visits = (
        FieldVisit.objects.filter(date=day)
        .exclude(status="cancelled")
        .select_related("engineer", "order", "order__customer")
        .order_by("engineer__email", "window_start", "id")
    )
    if engineer:
        visits = visits.filter(engineer_id=engineer)
    board: dict[int, dict] = {}
    for visit in visits:
        column = board.setdefault(visit.engineer_id, {"engineer": visit.engineer, "visits": []})
        column["visits"].append(visit)
    return list(board.values())


def order_fulfilment(order: Order) -> dict:
    """What the order page and job sheet show beyond the order row: proofs with their
    signature and photos, milestones, visits, change requests and attachments."""
    models = {
        name: apps.get_model("orders", name)
        for name in (
            "ProofOfDelivery",
            "Milestone",
            "FieldVisit",
            "ChangeRequest",
            "OrderAttachment",
        )
    }
    return {
        "proofs": list(
            models["ProofOfDelivery"]
            .objects.filter(order=order)
            .select_related("delivered_by", "signature")
            .prefetch_related("attachments")
        ),
        "milestones": list(
            models["Milestone"].objects.filter(order=order).select_related("signed_off_by", "order")
        ),
        "visits": list(models["FieldVisit"].objects.filter(order=order).select_related("engineer")),
        "change_requests": list(
            models["ChangeRequest"].objects.filter(order=order).select_related("created_by")
        ),
        "attachments": list(
            models["OrderAttachment"].objects.filter(order=order).select_related("uploaded_by")
        ),
    }
