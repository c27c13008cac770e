"""Reads for the webhook pages: endpoints with their delivery counts, and delivery logs."""

from django.db.models import Count, F, Max, Q, QuerySet

from oms.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

LOG_PAGE = 50


def endpoints_with_counts() -> QuerySet[WebhookEndpoint]:
    """Every endpoint (archived last) with how its deliveries stand."""
    Status = WebhookDelivery.Status
    return (
        WebhookEndpoint.objects.select_related("owner")
        .annotate(
            delivered=Count("deliveries", filter=Q(deliveries__status=Status.DELIVERED)),
            waiting=Count(
                "deliveries", filter=Q(deliveries__status__in=[Status.PENDING, Status.PAUSED])
            ),
            failed=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
            last_delivery_at=Max("deliveries__created_at"),
        )
        .order_by(F("archived_at").asc(nulls_first=True), "url", "id")
    )


def delivery_log(endpoint: WebhookEndpoint, *, status: str = "", limit: int = LOG_PAGE):
    """The endpoint's newest deliveries, optionally only those in one state."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).defer("body")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")[:limit]


def attempts_of(delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return delivery.log.order_by("number")
