"""Sales queues and quote comparisons: reads only."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import F, Max, Min, QuerySet, Sum
from django.utils import timezone

from quotes.models import Quote

# The default follow-up sequence: check-in on day 3, value email on day 7, decision on 14.
FOLLOWUP_DAYS = (3, 7, 14)
DECISION_DAY = 14

SORTS = {
    "age": ("sent_at", "id"),
    "-age": ("-sent_at", "-id"),
    "value": ("gross_total", "id"),
    "-value": ("-gross_total", "id"),
    "owner": ("order__owner__first_name", "order__owner__email", "sent_at", "id"),
}


def _awaiting(
    user,
    *,
    owner_id: int | None = None,
    min_age_days: int | None = None,
    min_value: Decimal | None = None,
    sort: str = "age",
) -> QuerySet[Quote]:
    """The awaiting queue's rows, filtered and in the chosen order (ties broken by id, so
    pages never overlap)."""
    quotes: QuerySet[Quote] = (
        Quote.objects.visible_to(user)
        .awaiting_response()
        .select_related("order", "order__customer", "order__owner")
    )
    if owner_id:
        quotes = quotes.filter(order__owner_id=owner_id)
    if min_age_days:
        quotes = quotes.filter(sent_at__lte=timezone.now() - timedelta(days=min_age_days))
    if min_value is not None:
        quotes = quotes.filter(gross_total__gte=min_value)
    return quotes.order_by(*SORTS.get(sort, SORTS["age"]))


def _with_followups(quotes: list[Quote]) -> list[Quote]:
    now = timezone.now()
    state = _scheduled_followups(quotes)
    for quote in quotes:
        _annotate_followup(quote, now, state)
    return quotes


def quotes_awaiting_response(user, **filters) -> list[Quote]:
    """Sent quotes the customer has not answered, with age, follow-up stage and next date.

    Each quote carries `age_days`, `stage` (the last follow-up day reached, 0 before the
    first), `next_followup` (a date, or None when paused or the sequence is done) and
    `decision_needed` (day 14 reached). Filters: `owner_id`, `min_age_days`, `min_value`,
    `sort`.
    """
    return _with_followups(list(_awaiting(user, **filters)))


def quotes_awaiting_page(
    user, *, page_number, per_page: int = 50, **filters
) -> tuple[Page, Decimal]:
    """One page of the awaiting queue and the value of the whole filtered queue. The count
    and the total are SQL aggregates, so the cost of a page does not grow with the queue."""
    quotes = _awaiting(user, **filters)
    total = quotes.aggregate(total=Sum("gross_total"))["total"] or Decimal("0.00")
    page = Paginator(quotes, per_page).get_page(page_number)
    page.object_list = _with_followups(list(page.object_list))
    return page, total


@dataclass
class FollowupState:
    """What the automation app knows of a quote's follow-up sequence."""

    next_due: dict
    reached: dict
    flagged: set


def _scheduled_followups(quotes: list[Quote]) -> FollowupState:
    """Next pending step, last step sent and "decision needed" flags, from the automation
    app's due rows (three queries however many quotes). Empty when the app is absent."""
    state = FollowupState(next_due={}, reached={}, flagged=set())
    try:
        from oms.automation.models import QueueFlag, Rule, ScheduledAction
    except ImportError:
        return state
    ids = [quote.pk for quote in quotes]
    if not ids:
        return state
    rows = ScheduledAction.objects.filter(subject_type="quotes.quote", subject_id__in=ids)
    state.next_due = dict(
        rows.filter(status=ScheduledAction.Status.PENDING)
        .values("subject_id")
        .annotate(next_due=Min("due_at"))
        .values_list("subject_id", "next_due")
    )
    state.reached = dict(
        rows.filter(status=ScheduledAction.Status.SENT, rule__offset_days__gt=0)
        .values("subject_id")
        .annotate(reached=Max("rule__offset_days"))
        .values_list("subject_id", "reached")
    )
    state.flagged = set(
        QueueFlag.objects.filter(
            kind=Rule.Flag.DECISION_NEEDED, subject_type="quotes.quote", subject_id__in=ids
        ).values_list("subject_id", flat=True)
    )
    return state


def _annotate_followup(quote: Quote, now, state: FollowupState) -> None:
    sent_at = quote.sent_at or now
    quote.age_days = (now - sent_at).days
    reached = [day for day in FOLLOWUP_DAYS if quote.age_days >= day]
    quote.stage = state.reached.get(quote.pk) or (reached[-1] if reached else 0)
    quote.decision_needed = quote.age_days >= DECISION_DAY or quote.pk in state.flagged
    scheduled = state.next_due.get(quote.pk)
    if quote.followups_paused:
        quote.next_followup = None
    elif scheduled is not None:
        quote.next_followup = timezone.localtime(scheduled).date()
    else:
        upcoming = [day for day in FOLLOWUP_DAYS if day > quote.age_days]
        quote.next_followup = (
            timezone.localtime(sent_at).date() + timedelta(days=upcoming[0]) if upcoming else None
        )


def quote_owners(user):
    """Salespeople who own a quote awaiting response that `user` may see."""
    from django.contrib.auth import get_user_model

    owner_ids = (
        Quote.objects.visible_to(user).awaiting_response().values("order__owner_id").distinct()
    )
    return get_user_model().objects.filter(pk__in=owner_ids).order_by(F("first_name"), "email")


# --- comparing versions ----------------------------------------------------------------


@dataclass
class LineChange:
    kind: str  # added, removed, changed
    description: str
    fields: list[tuple[str, str, str]]  # (field label, before, after)


@dataclass
class QuoteChanges:
    lines: list[LineChange]
    totals: list[tuple[str, str, str]]
    details: list[tuple[str, str, str]]

    def __bool__(self) -> bool:
        return bool(self.lines or self.totals or self.details)


COMPARED = (
    ("quantity", "Quantity"),
    ("unit", "Unit"),
    ("unit_price", "Unit price"),
    ("discount_percent", "Discount %"),
    ("tax_rate", "Tax %"),
)


def _norm(value) -> str:
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except ArithmeticError:
        return str(value)


def _key(line: dict) -> str:
    return str(line.get("product") or "") + "|" + str(line.get("description", "")).strip().lower()


def compare_lines(before: list[dict], after: list[dict]) -> list[LineChange]:
    """Lines added, removed or changed between two versions, matched by product and text."""
    remaining = {}
    for line in before:
        remaining.setdefault(_key(line), []).append(line)
    changes = []
    for line in after:
        matches = remaining.get(_key(line))
        if not matches:
            changes.append(LineChange("added", line.get("description", ""), []))
            continue
        old = matches.pop(0)
        fields = [
            (label, _norm(old.get(name)), _norm(line.get(name)))
            for name, label in COMPARED
            if _norm(old.get(name)) != _norm(line.get(name))
        ]
        if fields:
            changes.append(LineChange("changed", line.get("description", ""), fields))
    for leftovers in remaining.values():
        for line in leftovers:
            changes.append(LineChange("removed", line.get("description", ""), []))
    return changes


def quote_changes(previous: Quote, current: Quote, current_lines: list[dict]) -> QuoteChanges:
    """What changed from `previous` to `current`; `current_lines` are the current version's
    lines (its snapshot once sent, the order's lines while a draft)."""
    totals_before = {"Net": previous.net_total, "Tax": previous.tax_total}
    totals_before["Total"] = previous.gross_total
    net = sum((Decimal(str(line.get("net_amount", 0))) for line in current_lines), Decimal(0))
    tax = sum((Decimal(str(line.get("tax_amount", 0))) for line in current_lines), Decimal(0))
    totals_after = {"Net": net, "Tax": tax, "Total": net + tax}
    totals = [
        (label, f"{totals_before[label]:.2f}", f"{totals_after[label]:.2f}")
        for label in totals_before
        if totals_before[label] != totals_after[label]
    ]
    details = []
    if previous.valid_until != current.valid_until:
        details.append(
            ("Valid until", f"{previous.valid_until:%d %b %Y}", f"{current.valid_until:%d %b %Y}")
        )
    for name, label in (("terms", "Terms"), ("notes", "Notes")):
        if getattr(previous, name).strip() != getattr(current, name).strip():
            details.append((label, getattr(previous, name), getattr(current, name)))
    return QuoteChanges(
        lines=compare_lines(previous.lines_snapshot, current_lines), totals=totals, details=details
    )
