"""Read-mostly admin for invoices and payments. Every change is an action that calls a
service (the same path as the app), so the state, numbers and money are read-only here and
nothing is ever deleted."""

from datetime import date as Date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError

from invoicing import services
from invoicing.models import CustomerCredit, Invoice, InvoiceLine, Payment, Receipt, TimeEntry
from orders.services import OrderChanged


class InvoiceActionForm(ActionForm):
    """Inputs some actions need, shown beside the action menu."""

    reason = forms.CharField(required=False, help_text="Reason (discard, void, credit, dispute).")
    amount = forms.DecimalField(
        required=False, max_digits=14, decimal_places=2, help_text="Amount (payment, credit)."
    )
    date = forms.DateField(required=False, help_text="Date (payment, promise to pay).")


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fk_name = "invoice"
    extra = 0
    can_delete = False
    fields = (
        "position",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "tax_rate",
        "net_amount",
        "tax_amount",
        "deducted_invoice",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("date", "amount", "method", "reference", "recorded_by", "external_id")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _run(modeladmin, request, queryset, label: str, call) -> None:
    """Call a service for each selected invoice; report each success or refusal."""
    done = 0
    for invoice in queryset.order_by("id"):
        try:
            call(invoice)
        except (ValidationError, PermissionDenied, OrderChanged) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else error
            modeladmin.message_user(request, f"{invoice}: {text}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{label}: {done} invoice(s).", messages.SUCCESS)


def _field(request, name: str):
    form = InvoiceActionForm(request.POST)
    form.is_valid()
    return form.cleaned_data.get(name)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    action_form = InvoiceActionForm
    list_display = (
        "__str__",
        "kind",
        "status",
        "order",
        "customer",
        "issue_date",
        "due_date",
        "gross_total",
        "amount_paid",
        "amount_credited",
        "disputed",
    )
    list_filter = ("status", "kind", "disputed", "currency")
    search_fields = ("number", "order__number", "customer__name")
    date_hierarchy = "issue_date"
    list_select_related = ("order", "customer")
    inlines = (InvoiceLineInline, PaymentInline)
    actions = (
        "approve",
        "discard",
        "send",
        "record_payment",
        "credit",
        "void",
        "dispute",
        "resolve",
        "promise",
    )

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Invoice._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Approve selected drafts (allocates numbers)")
    def approve(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Approved",
            lambda i: services.approve_invoice(i, by=request.user),
        )

    @admin.action(description="Discard selected drafts (reason)")
    def discard(self, request, queryset):
        reason = _field(request, "reason")
        _run(
            self,
            request,
            queryset,
            "Discarded",
            lambda i: services.discard_draft_invoice(i, by=request.user, reason=reason),
        )

    @admin.action(description="Mark selected invoices as sent")
    def send(self, request, queryset):
        _run(self, request, queryset, "Sent", lambda i: services.send_invoice(i, by=request.user))

    @admin.action(description="Record payment (amount, or the outstanding amount; date)")
    def record_payment(self, request, queryset):
        amount, when = _field(request, "amount"), _field(request, "date")
        _run(
            self,
            request,
            queryset,
            "Payment recorded",
            lambda i: services.record_payment(
                i, by=request.user, amount=amount or i.outstanding, date=when
            ),
        )

    @admin.action(description="Raise credit note (reason; amount, or all uncredited)")
    def credit(self, request, queryset):
        reason, amount = _field(request, "reason"), _field(request, "amount")
        _run(
            self,
            request,
            queryset,
            "Credited",
            lambda i: services.create_credit_note(i, by=request.user, reason=reason, amount=amount),
        )

    @admin.action(description="Void (reason)")
    def void(self, request, queryset):
        reason = _field(request, "reason")
        _run(
            self,
            request,
            queryset,
            "Voided",
            lambda i: services.void_invoice(i, by=request.user, reason=reason),
        )

    @admin.action(description="Mark disputed (reason)")
    def dispute(self, request, queryset):
        reason = _field(request, "reason")
        _run(
            self,
            request,
            queryset,
            "Disputed",
            lambda i: services.dispute_invoice(i, by=request.user, reason=reason),
        )

    @admin.action(description="Resolve dispute (reason = resolution)")
    def resolve(self, request, queryset):
        resolution = _field(request, "reason")
        _run(
            self,
            request,
            queryset,
            "Dispute resolved",
            lambda i: services.resolve_dispute(i, by=request.user, resolution=resolution),
        )

    @admin.action(description="Record promise to pay (date)")
    def promise(self, request, queryset):
        when: Date | None = _field(request, "date")
        if when is None:
            self.message_user(request, "Give the promised date.", messages.ERROR)
            return
        _run(
            self,
            request,
            queryset,
            "Promise recorded",
            lambda i: services.set_promise_to_pay(i, by=request.user, date=when),
        )


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("invoice", "date", "amount", "method", "reference", "recorded_by")
    list_filter = ("method",)
    search_fields = ("invoice__number", "reference", "external_id")
    date_hierarchy = "date"
    list_select_related = ("invoice", "recorded_by")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Payment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money facts: readable here, written only by the services."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("customer", "date", "currency", "amount", "method", "reference")
    search_fields = ("customer__name", "reference")
    list_select_related = ("customer",)


@admin.register(CustomerCredit)
class CustomerCreditAdmin(ReadOnlyAdmin):
    list_display = ("customer", "created_at", "kind", "currency", "amount", "invoice")
    list_filter = ("kind", "currency")
    search_fields = ("customer__name",)
    list_select_related = ("customer", "invoice")


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = ("order", "date", "person", "hours", "rate", "description", "invoice_line")
    search_fields = ("order__number", "person", "description")
    list_select_related = ("order", "invoice_line__invoice")
