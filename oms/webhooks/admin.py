"""Read-only admin for webhooks: managers change endpoints on their own pages."""

from django.contrib import admin

from oms.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly):
    list_display = ("url", "description", "status", "consecutive_failures", "owner")
    list_filter = ("status",)
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = ("event_type", "endpoint", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "event_type")
    raw_id_fields = ("endpoint", "source_event")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnly):
    list_display = ("delivery", "number", "status_code", "duration_ms", "succeeded")
    raw_id_fields = ("delivery",)
