"""Webhook endpoints the business's tools register, and every delivery made to them.

An endpoint subscribes to public event types (events.py). The fan-out handler writes one
WebhookDelivery per subscribed endpoint and event, with the signed body frozen at that
moment; a beat sweeper claims due deliveries and POSTs them, logging every attempt.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

SECRET_PREFIX = "whsec_"  # noqa: S105 (a recognisable prefix, not a secret)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribed to, signed with its own secret."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Archived"

    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100, default=new_secret)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # After a rotation the old secret may keep signing beside the new one for a while, so
    # receivers can switch over without refusing a single delivery.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["url", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "paused", "archived"]),
                name="webhookendpoint_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in self.event_types

    def signing_secrets(self, now) -> list[str]:
        """The secrets that sign a request now: the current one, then the previous one
        while its overlap lasts."""
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__status=WebhookEndpoint.Status.ACTIVE,
        )


class WebhookDelivery(models.Model):
    """One event for one endpoint: the body as first written, and where its sending stands."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        PAUSED = "paused", "Held while the endpoint is paused"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    # The outbox event it came from; none for a test ping.
    source_event = models.ForeignKey(
        "outbox.OutboxEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_id = models.UUIDField()  # the payload's id, the same for every endpoint
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts since the retry window last opened; the backoff grows with these.
    window_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    give_up_at = models.DateTimeField()
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_event", "endpoint", "event_type"],
                name="webhookdelivery_once_per_event",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "paused", "failed"]),
                name="webhookdelivery_status_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, or why it could not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhookattempt_number"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}"
