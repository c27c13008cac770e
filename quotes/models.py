from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orders.models import Order


class QuoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(order__in=Order.objects.visible_to(user))

    def awaiting_response(self):
        return self.filter(status=Quote.Status.SENT)

    def update(self, **kwargs):
        # The state only moves through a transition inside a service (quotes/services.py).
        if "status" in kwargs:
            raise TypeError("A quote's state changes only through its services.")
        return super().update(**kwargs)

    def delete(self):
        raise ValidationError("Quotes are never deleted; they are superseded or declined.")


class Quote(ConcurrentTransitionMixin, models.Model):
    """A priced offer for an order. Sending freezes a snapshot of the order's lines."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        SUPERSEDED = "superseded", "Superseded"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="quotes")
    version = models.PositiveIntegerField(default=1)
    status = FSMField(max_length=16, choices=Status.choices, default=Status.DRAFT, protected=True)
    valid_until = models.DateField()
    terms = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    lines_snapshot = models.JSONField(default=list, blank=True)
    net_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    tax_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    gross_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.EmailField(blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by_name = models.CharField(max_length=200, blank=True)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)
    accepted_po = models.CharField(max_length=64, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    followups_paused = models.BooleanField(default=False)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        ordering = ["order", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["order", "version"], name="quote_order_version_uniq"),
            models.CheckConstraint(
                condition=Q(
                    status__in=["draft", "sent", "accepted", "declined", "expired", "superseded"]
                ),
                name="quote_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "sent_at"], name="quote_status_sent_idx"),
            models.Index(
                fields=["valid_until"], name="quote_valid_until_idx", condition=Q(status="sent")
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def delete(self, *args, **kwargs):
        raise ValidationError("Quotes are never deleted; they are superseded or declined.")

    @property
    def reference(self) -> str:
        return f"{self.order.number}-Q{self.version}"

    @transition(status, source=Status.DRAFT, target=Status.SENT)
    def send(self, *, to: str = "") -> None:
        self.sent_at = timezone.now()
        self.sent_to = to

    @transition(
        status,
        source=Status.SENT,
        target=Status.ACCEPTED,
        conditions=[lambda quote: quote.valid_until >= timezone.localdate()],
    )
    def accept(self, *, name: str, ip: str | None = None, po: str = "") -> None:
        self.accepted_at = timezone.now()
        self.accepted_by_name = name
        self.accepted_ip = ip
        self.accepted_po = po

    @transition(status, source=Status.SENT, target=Status.DECLINED)
    def decline(self, *, reason: str = "") -> None:
        self.declined_at = timezone.now()
        self.decline_reason = reason

    @transition(status, source=Status.SENT, target=Status.EXPIRED)
    def expire(self) -> None:
        self.expired_at = timezone.now()

    @transition(
        status, source=[Status.DRAFT, Status.SENT, Status.EXPIRED], target=Status.SUPERSEDED
    )
    def supersede(self) -> None:
        pass

    @transition(status, source=Status.EXPIRED, target=Status.SENT)
    def extend(self, *, valid_until) -> None:
        self.valid_until = valid_until
        self.expired_at = None
