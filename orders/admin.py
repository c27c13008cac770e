"""Read-mostly admin for orders, the catalogue and the timeline.

Every change of state is an action that calls the same service as the app (lock, check,
transition, record, publish), so the state field is read-only here. Order details save
through update_order, so a hold holds in the admin too. Timeline events can be read, never
added, changed or deleted; nothing is ever deleted.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError

from orders import services
from orders.models import (
    ChangeRequest,
    FieldVisit,
    Milestone,
    Order,
    OrderAttachment,
    OrderLine,
    Product,
    ProofOfDelivery,
    TimelineEvent,
)


class OrderActionForm(ActionForm):
    """Inputs some transitions need, shown beside the action menu."""

    reason = forms.CharField(required=False, help_text="Reason (lose, hold, rework, cancel).")
    resume_date = forms.DateField(required=False, help_text="Expected resume date (hold).")
    received_by = forms.CharField(required=False, help_text="Received by (deliver).")
    proof = forms.CharField(required=False, help_text="Proof of delivery (deliver).")


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


def run_for_each(modeladmin, request, queryset, label: str, call, noun: str = "order") -> None:
    """Call a service for each selected row; report each success or refusal."""
    done = 0
    for obj in queryset.order_by("pk"):
        try:
            call(obj)
        except (ValidationError, PermissionDenied, services.OrderChanged) as error:
            modeladmin.message_user(request, f"{obj}: {_error_text(error)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{label}: {done} {noun}(s).", messages.SUCCESS)


def _action_field(request, name: str):
    form = OrderActionForm(request.POST)
    form.is_valid()
    return form.cleaned_data.get(name) or None


def _transition_action(name: str, description: str, call):
    def action(modeladmin, request, queryset):
        run_for_each(modeladmin, request, queryset, description, lambda o: call(o, request))

    action.__name__ = name
    return admin.action(description=description)(action)


ORDER_ACTIONS = [
    _transition_action(
        "confirm", "Confirm order", lambda o, r: services.confirm_order(o, by=r.user)
    ),
    _transition_action(
        "lose",
        "Mark lost (reason)",
        lambda o, r: services.lose_order(o, by=r.user, reason=_action_field(r, "reason") or ""),
    ),
    _transition_action("reopen", "Reopen", lambda o, r: services.reopen_order(o, by=r.user)),
    _transition_action("start_work", "Start work", lambda o, r: services.start_work(o, by=r.user)),
    _transition_action(
        "hold",
        "Put on hold (reason, resume date)",
        lambda o, r: services.hold_order(
            o,
            by=r.user,
            reason=_action_field(r, "reason") or "",
            resume_date=_action_field(r, "resume_date"),
        ),
    ),
    _transition_action("resume", "Resume", lambda o, r: services.resume_order(o, by=r.user)),
    _transition_action(
        "deliver",
        "Mark delivered (received by, proof)",
        lambda o, r: services.deliver_order(
            o,
            by=r.user,
            received_by=_action_field(r, "received_by") or "",
            proof=_action_field(r, "proof") or "",
        ),
    ),
    _transition_action(
        "rework",
        "Rework (reason)",
        lambda o, r: services.rework_order(o, by=r.user, reason=_action_field(r, "reason") or ""),
    ),
    _transition_action(
        "cancel",
        "Cancel order (reason; managers)",
        lambda o, r: services.cancel_order(o, by=r.user, reason=_action_field(r, "reason") or ""),
    ),
]


class OrderLineInline(admin.TabularInline):
    """Lines change through set_order_lines (the order page), never here."""

    model = OrderLine
    extra = 0
    can_delete = False
    fields = (
        "position",
        "product",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "discount_percent",
        "tax_rate",
        "net_amount",
        "tax_amount",
        "delivered_quantity",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "automation", "from_state", "to_state", "message")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderAdminForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ("customer", "title", *services.EDITABLE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        order = self.instance
        if order.pk:
            try:
                services.ensure_not_on_hold(order, "be changed")
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from error
            if order.is_closed:
                raise forms.ValidationError(
                    f"Order {order.number} is {order.get_status_display().lower()}; "
                    "it cannot be changed any more."
                )
        return cleaned


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderAdminForm
    action_form = OrderActionForm
    actions = (*ORDER_ACTIONS, "draft_quote")
    list_display = (
        "number",
        "title",
        "customer",
        "status",
        "owner",
        "assignee",
        "gross_total",
        "status_changed_at",
    )
    list_filter = ("status", "kind", "source", "currency")
    search_fields = ("number", "title", "po_reference", "customer__name")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "owner", "assignee")
    autocomplete_fields = ("customer",)
    inlines = (OrderLineInline, TimelineInline)
    readonly_fields = (
        "number",
        "status",
        "held_from",
        "hold_reason",
        "hold_resume_date",
        "closed_reason",
        "delivery_proof",
        "delivered_to",
        "currency",
        "net_total",
        "tax_total",
        "gross_total",
        "progress",
        "created_at",
        "updated_at",
        "status_changed_at",
        "enquiry_at",
        "quoted_at",
        "confirmed_at",
        "in_progress_at",
        "on_hold_at",
        "delivered_at",
        "invoiced_at",
        "paid_at",
        "lost_at",
        "cancelled_at",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("customer", *self.readonly_fields)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer", "title", *services.EDITABLE_FIELDS)
        return None

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return super().get_fieldsets(request, obj)
        return [
            ("Order", {"fields": ("number", "customer", "status", "progress", "title", "kind")}),
            (
                "Details",
                {
                    "fields": (
                        "source",
                        "owner",
                        "assignee",
                        "specification",
                        "delivery_address",
                        "requested_date",
                        "agreed_date",
                        "special_instructions",
                        "po_reference",
                        "metadata",
                    )
                },
            ),
            ("Totals", {"fields": ("currency", "net_total", "tax_total", "gross_total")}),
            (
                "State",
                {
                    "fields": (
                        "held_from",
                        "hold_reason",
                        "hold_resume_date",
                        "closed_reason",
                        "delivered_to",
                        "delivery_proof",
                    )
                },
            ),
            (
                "Times",
                {
                    "classes": ("collapse",),
                    "fields": (
                        "created_at",
                        "updated_at",
                        "status_changed_at",
                        "enquiry_at",
                        "quoted_at",
                        "confirmed_at",
                        "in_progress_at",
                        "on_hold_at",
                        "delivered_at",
                        "invoiced_at",
                        "paid_at",
                        "lost_at",
                        "cancelled_at",
                    ),
                },
            ),
        ]

    @admin.display(description="Delivered / invoiced / paid")
    def progress(self, obj: Order) -> str:
        p = obj.progress
        return f"{p['delivered']}% / {p['invoiced']}% / {p['paid']}%"

    def save_model(self, request, obj, form, change):
        """Through the services: create_enquiry for a new order, update_order for edits."""
        data = {name: form.cleaned_data.get(name) for name in form.changed_data}
        if not change:
            customer = form.cleaned_data["customer"]
            title = form.cleaned_data["title"]
            fields = {
                name: form.cleaned_data[name]
                for name in services.EDITABLE_FIELDS
                if name in form.cleaned_data and name not in ("title", "owner")
            }
            fields = {k: v for k, v in fields.items() if v not in (None, "")}
            created = services.create_enquiry(
                customer=customer,
                title=title,
                by=request.user,
                owner=form.cleaned_data.get("owner"),
                **fields,
            )
            obj.pk = created.pk
            obj.number = created.number
            return
        fresh = Order.objects.get(pk=obj.pk)
        changes = {k: v for k, v in data.items() if k in services.EDITABLE_FIELDS}
        try:
            services.update_order(fresh, by=request.user, **changes)
        except (ValidationError, PermissionDenied, services.OrderChanged) as error:
            self.message_user(request, _error_text(error), messages.ERROR)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Draft a new quote")
    def draft_quote(self, request, queryset):
        from quotes.services import create_quote

        run_for_each(
            self,
            request,
            queryset,
            "Quote drafted",
            lambda o: create_quote(o, by=request.user),
        )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Plain catalogue edits save directly; archiving goes through the services."""

    list_display = ("code", "name", "kind", "unit", "unit_price", "tax_rate", "active")
    list_filter = ("active", "kind")
    search_fields = ("code", "name")
    readonly_fields = ("active", "archived_at")
    actions = ("archive", "restore")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Archive selected products")
    def archive(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            "Archived",
            lambda p: services.archive_product(p, by=request.user),
            noun="product",
        )

    @admin.action(description="Restore selected products")
    def restore(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            "Restored",
            lambda p: services.restore_product(p, by=request.user),
            noun="product",
        )


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    """Append-only history: readable, never added, changed or deleted here."""

    list_display = ("created_at", "order", "kind", "actor_label", "from_state", "to_state")
    list_filter = ("kind",)
    search_fields = ("order__number", "message")
    list_select_related = ("order", "actor")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in TimelineEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}


class FulfilmentRecordAdmin(admin.ModelAdmin):
    """Fulfilment records change only through the operations pages and their services
    (proofs, visits, milestones, change requests, files); the admin shows them."""

    list_select_related = ("order",)
    search_fields = ("order__number",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProofOfDelivery)
class ProofOfDeliveryAdmin(FulfilmentRecordAdmin):
    list_display = ("order", "delivered_at", "signer_name", "delivered_by")


@admin.register(FieldVisit)
class FieldVisitAdmin(FulfilmentRecordAdmin):
    list_display = ("order", "__str__")


@admin.register(Milestone)
class MilestoneAdmin(FulfilmentRecordAdmin):
    list_display = ("order", "description", "amount", "percent")


@admin.register(ChangeRequest)
class ChangeRequestAdmin(FulfilmentRecordAdmin):
    list_display = ("order", "status", "created_at", "decided_at")
    list_filter = ("status",)


@admin.register(OrderAttachment)
class OrderAttachmentAdmin(FulfilmentRecordAdmin):
    list_display = ("order", "kind", "original_name")
