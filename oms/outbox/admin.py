"""Admin for the outbox: pending and dead events, the age of the oldest pending one.

Read-only; the one action (retry) calls the relay's retry service."""

from django.contrib import admin, messages
from django.utils import timezone

from oms.outbox.models import HandlerRun, OutboxEvent
from oms.outbox.relay import oldest_pending_age, retry_event


class HandlerRunInline(admin.TabularInline):
    model = HandlerRun
    extra = 0
    can_delete = False
    fields = (
        "handler",
        "status",
        "attempts",
        "worker_pid",
        "started_at",
        "completed_at",
        "last_error",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "subject_type",
        "subject_id",
        "status",
        "created_at",
        "dispatch_count",
        "age",
    )
    list_filter = ("status", "kind")
    search_fields = ("kind", "subject_id", "order_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    inlines = [HandlerRunInline]
    actions = ["retry"]
    change_list_template = "admin/outbox/outboxevent/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="waiting")
    def age(self, event: OutboxEvent) -> str:
        if event.status in (OutboxEvent.Status.DONE, OutboxEvent.Status.DEAD):
            return ""
        return _duration(timezone.now() - event.created_at)

    @admin.action(description="Retry the selected dead events")
    def retry(self, request, queryset) -> None:
        retried = 0
        for event in queryset.filter(status=OutboxEvent.Status.DEAD):
            retry_event(event)
            retried += 1
        self.message_user(request, f"{retried} event(s) queued again.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        age = oldest_pending_age()
        counts = {
            status: OutboxEvent.objects.filter(status=status).count()
            for status in (
                OutboxEvent.Status.PENDING,
                OutboxEvent.Status.DISPATCHED,
                OutboxEvent.Status.DEAD,
            )
        }
        extra_context = {
            **(extra_context or {}),
            "oldest_pending_age": _duration(age) if age is not None else None,
            "outbox_counts": counts,
            "dead_runs": HandlerRun.objects.filter(status=HandlerRun.Status.DEAD).count(),
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(HandlerRun)
class HandlerRunAdmin(admin.ModelAdmin):
    list_display = ("event", "handler", "status", "attempts", "started_at", "completed_at")
    list_filter = ("status", "handler")
    readonly_fields = [f.name for f in HandlerRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _duration(delta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
