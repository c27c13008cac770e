"""The one rule mechanism: what is sent, to whom, when, and what stops it.

A Rule reacts either to an event (order.confirmed, quote.expired) or to a date (N days after
a quote is sent, N days after an invoice falls due). Date rules become ScheduledAction rows
when their sequence starts; a beat sweeper claims the rows that fall due. Every message
sent leaves an EmailLog or Notification row whose unique key makes sending idempotent.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from oms.accounts.roles import Role

# Events a rule may react to, in the lifecycle's own words.
EVENT_CHOICES = [
    ("order.confirmed", "Order confirmed"),
    ("order.started", "Work started"),
    ("order.held", "Order put on hold"),
    ("order.resumed", "Order resumed"),
    ("order.delivered", "Order delivered"),
    ("order.reworked", "Delivery rejected, rework"),
    ("order.invoiced", "Order invoiced"),
    ("order.paid", "Order paid"),
    ("order.cancelled", "Order cancelled"),
    ("order.lost", "Order lost"),
    ("quote.sent", "Quote sent"),
    ("quote.resent", "Quote sent again"),
    ("quote.accepted", "Quote accepted"),
    ("quote.declined", "Quote declined"),
    ("quote.expired", "Quote expired"),
    ("invoice.drafted", "Draft invoice ready"),
    ("invoice.approved", "Invoice approved"),
    ("invoice.sent", "Invoice sent"),
    ("invoice.disputed", "Invoice disputed"),
    ("payment.recorded", "Payment recorded"),
]


class Rule(models.Model):
    """One automation: a trigger, a condition, recipients, a template, a channel, a stop."""

    class Trigger(models.TextChoices):
        EVENT = "event", "When something happens"
        DATE = "date", "Days before or after a date"

    class Anchor(models.TextChoices):
        QUOTE_SENT = "quote.sent_at", "Quote sent"
        QUOTE_VALID_UNTIL = "quote.valid_until", "Quote valid until"
        INVOICE_DUE = "invoice.due_date", "Invoice due date"

    class Sequence(models.TextChoices):
        QUOTE_FOLLOWUP = "quote_followup", "Quote follow-up"
        DUNNING = "dunning", "Payment reminders"
        NOTIFICATION = "notification", "Staff notifications"
        CUSTOMER_UPDATE = "customer_update", "Customer updates"
        OTHER = "other", "Other"

    class Recipient(models.TextChoices):
        CUSTOMER = "customer", "Customer's main contact"
        BILLING = "billing", "Customer's billing contact"
        SENIOR = "senior", "Customer's senior contact"
        OWNER = "owner", "Order owner (salesperson)"
        ROLE = "role", "Everyone in a role"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        IN_APP = "in_app", "In-app notification (and email if the person wants it)"

    class Flag(models.TextChoices):
        NONE = "", "No flag"
        DECISION_NEEDED = "decision_needed", "Decision needed (sales queue)"

    class Stop(models.TextChoices):
        QUOTE_ACCEPTED = "quote_accepted", "Quote accepted"
        QUOTE_DECLINED = "quote_declined", "Quote declined"
        QUOTE_SUPERSEDED = "quote_superseded", "Quote superseded by a new version"
        QUOTE_EXPIRED = "quote_expired", "Quote expired"
        ORDER_LOST = "order_lost", "Order lost or cancelled"
        INVOICE_PAID = "invoice_paid", "Invoice paid"
        INVOICE_CREDITED = "invoice_credited", "Invoice credited"
        INVOICE_DISPUTED = "invoice_disputed", "Invoice disputed"
        INVOICE_VOID = "invoice_void", "Invoice void"

    CUSTOMER_RECIPIENTS = (Recipient.CUSTOMER, Recipient.BILLING, Recipient.SENIOR)

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    sequence = models.CharField(max_length=20, choices=Sequence.choices, default=Sequence.OTHER)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.EVENT)
    event_kind = models.CharField(max_length=64, choices=EVENT_CHOICES, blank=True)
    anchor = models.CharField(max_length=32, choices=Anchor.choices, blank=True)
    offset_days = models.IntegerField(
        default=0, help_text="Days after the date; a negative number means days before."
    )

    min_amount = models.DecimalField(
        "only when the amount is at least",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    respect_opt_out = models.BooleanField(
        "skip customers who opted out of automatic emails", default=False
    )

    recipient = models.CharField(max_length=16, choices=Recipient.choices)
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    subject_template = models.CharField("subject", max_length=300)
    body_template = models.TextField("message")
    attach_document = models.BooleanField("attach the quote or invoice PDF", default=False)
    flag = models.CharField(max_length=32, choices=Flag.choices, blank=True, default="")
    stop_when = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["sequence", "position", "offset_days", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger="event", event_kind__gt="") | Q(trigger="date", anchor__gt=""),
                name="rule_trigger_complete",
            ),
            models.CheckConstraint(
                condition=~Q(recipient="role") | Q(role__gt=""), name="rule_role_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["event_kind"], name="rule_event_idx", condition=Q(enabled=True)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject_type(self) -> str:
        """The kind of record a date rule's sequence runs on."""
        return {
            self.Anchor.QUOTE_SENT: "quotes.quote",
            self.Anchor.QUOTE_VALID_UNTIL: "quotes.quote",
            self.Anchor.INVOICE_DUE: "invoicing.invoice",
        }.get(self.anchor, "")

    @property
    def when(self) -> str:
        if self.trigger == self.Trigger.EVENT:
            return f"When: {self.get_event_kind_display().lower()}"
        days = abs(self.offset_days)
        side = "before" if self.offset_days < 0 else "after"
        return f"{days} day{'s' if days != 1 else ''} {side} {self.get_anchor_display().lower()}"

    @property
    def to_label(self) -> str:
        if self.recipient == self.Recipient.ROLE:
            return f"{self.role} team"
        return self.get_recipient_display()


class ScheduledActionQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=ScheduledAction.Status.PENDING, due_at__lte=now)


class ScheduledAction(models.Model):
    """One step of a running sequence, due at a time. The sweeper claims due rows."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="scheduled")
    subject_type = models.CharField(max_length=64)
    subject_id = models.BigIntegerField()
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="scheduled_actions"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    paused_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScheduledActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_type", "subject_id"], name="scheduled_rule_subject"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="scheduled_pending_due_idx", condition=Q(status="pending")
            ),
            models.Index(fields=["subject_type", "subject_id"], name="scheduled_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} for {self.subject_type} #{self.subject_id} at {self.due_at}"


class QueueFlag(models.Model):
    """A marker an automation raises in a work queue, such as "decision needed" on a quote."""

    kind = models.CharField(max_length=32, choices=Rule.Flag.choices)
    subject_type = models.CharField(max_length=64)
    subject_id = models.BigIntegerField()
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL)
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"], name="queueflag_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.subject_type} #{self.subject_id}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app message to one member of staff."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    key = models.CharField(max_length=200, unique=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                name="notification_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class EmailLog(models.Model):
    """Every automated email, keyed so that the same message is never sent twice."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["order", "created_at"], name="emaillog_order_idx")]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"
