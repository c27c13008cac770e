"""Read-only views of the integration's records; changes go through the Xero pages."""

from django.contrib import admin

from invoicing.accounting.models import (
    AccountMapping,
    PulledPayment,
    SyncLog,
    SyncRecord,
    WebhookEvent,
    XeroConnection,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(XeroConnection)
class XeroConnectionAdmin(ReadOnlyAdmin):
    # The encrypted token columns are left out on purpose.
    fields = list_display = (
        "org_name",
        "status",
        "tenant_id",
        "expires_at",
        "last_synced_at",
        "parked_until",
        "refresh_count",
    )


@admin.register(AccountMapping)
class AccountMappingAdmin(ReadOnlyAdmin):
    list_display = ("sales_account_code", "invoice_status", "updated_at")


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyAdmin):
    list_display = ("kind", "label", "status", "external_id", "attempts", "updated_at")
    list_filter = ("status", "kind")
    search_fields = ("label", "external_id")


@admin.register(SyncLog)
class SyncLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "outcome", "status_code", "message")
    list_filter = ("outcome", "action")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "category", "event_type", "resource_id", "processed_at")


@admin.register(PulledPayment)
class PulledPaymentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "external_id", "invoice", "amount")
