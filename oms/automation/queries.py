"""Reads for the inbox, the rule pages and the decision queue."""

from datetime import datetime

from django.db.models import QuerySet

from oms.automation.models import Notification, QueueFlag, Rule


def inbox_for(user, *, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("order")[:limit]


def unread_count(user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.unread().filter(user=user).count()


def rules_by_sequence() -> list[tuple[str, list[Rule]]]:
    groups: dict[str, list[Rule]] = {}
    for rule in Rule.objects.all():
        groups.setdefault(rule.get_sequence_display(), []).append(rule)
    return list(groups.items())


def quotes_needing_decision(user):
    """Sent quotes flagged "decision needed" that the user can see, oldest flag first."""
    from quotes.models import Quote

    flagged = QueueFlag.objects.filter(
        kind=Rule.Flag.DECISION_NEEDED, subject_type="quotes.quote"
    ).values("subject_id")
    return (
        Quote.objects.visible_to(user)
        .filter(pk__in=flagged, status=Quote.Status.SENT)
        .select_related("order", "order__customer", "order__owner")
        .order_by("sent_at")
    )


def next_followups(quotes) -> dict[int, datetime]:
    """The next pending follow-up time for each of `quotes` (quote id -> due_at)."""
    from django.db.models import Min

    from oms.automation.models import ScheduledAction

    rows = (
        ScheduledAction.objects.filter(
            subject_type="quotes.quote",
            subject_id__in=[quote.pk for quote in quotes],
            status=ScheduledAction.Status.PENDING,
        )
        .values("subject_id")
        .annotate(next_due=Min("due_at"))
    )
    return {row["subject_id"]: row["next_due"] for row in rows}
