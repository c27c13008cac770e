"""Read-mostly admin for automation: rules are edited on the managers' pages."""

from django.contrib import admin

from oms.automation.models import EmailLog, Notification, QueueFlag, Rule, ScheduledAction


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("name", "sequence", "when", "to_label", "channel", "enabled")
    list_filter = ("sequence", "enabled", "channel")
    search_fields = ("name",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ScheduledAction)
class ScheduledActionAdmin(admin.ModelAdmin):
    list_display = ("rule", "subject_type", "subject_id", "order", "due_at", "status", "note")
    list_filter = ("status", "rule__sequence")
    raw_id_fields = ("order",)
    readonly_fields = [f.name for f in ScheduledAction._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmailLog)
class EmailLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "to", "subject", "rule", "order")
    search_fields = ("to", "subject", "key")
    readonly_fields = [f.name for f in EmailLog._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "title", "read_at")
    search_fields = ("title", "user__email")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


admin.site.register(QueueFlag)
