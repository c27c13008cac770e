"""The audit log in Django admin: read-only for everyone, superusers included."""

from django.contrib import admin

from oms.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "ip", "action", "target_type", "target_repr")
    list_filter = ("action", "target_type")
    search_fields = ("actor_label", "target_repr", "target_id")
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
