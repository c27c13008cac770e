"""Admin for customers and contacts. Plain edits (a phone number, an address) save
directly; archiving goes through the services, and nothing is ever deleted."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from customers import services
from customers.models import Contact, Customer


def _for_each(modeladmin, request, queryset, label: str, call, noun: str) -> None:
    done = 0
    for obj in queryset.order_by("pk"):
        try:
            call(obj)
        except (ValidationError, PermissionDenied) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else error
            modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{label}: {done} {noun}(s).", messages.SUCCESS)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    can_delete = False
    fields = ("name", "role", "email", "phone", "archived_at")
    readonly_fields = ("archived_at",)


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return (("no", "Active"), ("yes", "Archived"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "segment",
        "account_manager",
        "payment_terms_days",
        "currency",
        "status_emails_opt_out",
        "archived_at",
    )
    list_filter = (ArchivedFilter, "segment", "currency", "status_emails_opt_out")
    search_fields = ("name", "tax_number", "contacts__email", "contacts__name")
    list_select_related = ("account_manager",)
    readonly_fields = ("created_at", "archived_at")
    inlines = (ContactInline,)
    actions = ("archive", "restore")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Archive selected customers")
    def archive(self, request, queryset):
        _for_each(
            self,
            request,
            queryset,
            "Archived",
            lambda c: services.archive_customer(c, by=request.user),
            "customer",
        )

    @admin.action(description="Restore selected customers")
    def restore(self, request, queryset):
        _for_each(
            self,
            request,
            queryset,
            "Restored",
            lambda c: services.restore_customer(c, by=request.user),
            "customer",
        )


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "role", "email", "phone", "archived_at")
    list_filter = (ArchivedFilter, "role")
    search_fields = ("name", "email", "phone", "customer__name")
    list_select_related = ("customer",)
    readonly_fields = ("archived_at",)
    actions = ("archive",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Archive selected contacts")
    def archive(self, request, queryset):
        _for_each(
            self,
            request,
            queryset,
            "Archived",
            lambda c: services.archive_contact(c, by=request.user),
            "contact",
        )
