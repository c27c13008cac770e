from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it describes.

    The relay hands pending events to Celery; every handler records its own completion,
    so an event is carried out exactly once however often it is delivered.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DISPATCHED = "dispatched"
        DONE = "done"
        DEAD = "dead"

    kind = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=64)
    subject_id = models.BigIntegerField()
    order_id = models.BigIntegerField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    dispatch_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                name="outbox_pending_idx",
                condition=models.Q(status__in=["pending", "dispatched"]),
            ),
            models.Index(fields=["kind", "subject_id"], name="outbox_kind_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.subject_id}"


class HandlerRun(models.Model):
    """One handler's completion record for one event: the idempotency key of the effect.

    The (event, handler) pair is unique, and the handler's work commits in the same
    transaction that marks its run done, so a redelivered task finds it done and stops.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        DEAD = "dead"

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="runs")
    handler = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    worker_pid = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["event", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="handlerrun_event_handler"),
        ]
        indexes = [
            models.Index(
                fields=["status"],
                name="handlerrun_dead_idx",
                condition=models.Q(status="dead"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handler} for event {self.event_id}"
