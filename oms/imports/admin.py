"""Imports in the admin: a read-only record of who loaded what, when, and how it went."""

from django.contrib import admin

from oms.imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "kind",
        "original_name",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "skipped_count",
        "created_by",
        "created_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("original_name", "created_by__email")
    list_select_related = ("created_by",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
