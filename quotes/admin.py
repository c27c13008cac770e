"""Read-mostly admin for quotes: every change is an action that calls a quote service, so
the state, snapshot and totals are read-only here and nothing is deleted. New quotes are
drafted from the order admin ("Draft a new quote")."""

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm

from orders.admin import run_for_each
from quotes import services
from quotes.models import Quote


class QuoteActionForm(ActionForm):
    """Inputs some actions need, shown beside the action menu."""

    name = forms.CharField(required=False, help_text="Accepted by (accept).")
    po = forms.CharField(required=False, help_text="Customer PO (accept).")
    reason = forms.CharField(required=False, help_text="Reason (decline).")
    valid_until = forms.DateField(required=False, help_text="Valid until (extend).")


def _field(request, name: str):
    form = QuoteActionForm(request.POST)
    form.is_valid()
    return form.cleaned_data.get(name)


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    action_form = QuoteActionForm
    list_display = (
        "reference",
        "order",
        "version",
        "status",
        "valid_until",
        "gross_total",
        "sent_at",
        "followups_paused",
    )
    list_filter = ("status", "followups_paused")
    search_fields = ("order__number", "order__customer__name")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    actions = (
        "send",
        "accept",
        "decline",
        "extend",
        "revise",
        "expire",
        "pause_followups",
        "resume_followups",
    )

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Quote._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _run(self, request, queryset, label, call):
        run_for_each(self, request, queryset, label, call, noun="quote")

    @admin.action(description="Send selected drafts to the customer")
    def send(self, request, queryset):
        self._run(request, queryset, "Sent", lambda q: services.send_quote(q, by=request.user))

    @admin.action(description="Record acceptance (name, PO)")
    def accept(self, request, queryset):
        name, po = _field(request, "name") or "", _field(request, "po") or ""
        self._run(
            request,
            queryset,
            "Accepted",
            lambda q: services.accept_quote(q, by=request.user, name=name, po=po),
        )

    @admin.action(description="Record decline (reason)")
    def decline(self, request, queryset):
        reason = _field(request, "reason") or ""
        self._run(
            request,
            queryset,
            "Declined",
            lambda q: services.decline_quote(q, by=request.user, reason=reason),
        )

    @admin.action(description="Extend validity (valid until)")
    def extend(self, request, queryset):
        valid_until = _field(request, "valid_until")
        if valid_until is None:
            self.message_user(request, "Choose the new valid-until date.", level="error")
            return
        self._run(
            request,
            queryset,
            "Extended",
            lambda q: services.extend_quote(q, by=request.user, valid_until=valid_until),
        )

    @admin.action(description="Revise: start the next version")
    def revise(self, request, queryset):
        self._run(request, queryset, "Revised", lambda q: services.revise_quote(q, by=request.user))

    @admin.action(description="Expire quotes past their date")
    def expire(self, request, queryset):
        self._run(request, queryset, "Expired", services.expire_quote)

    @admin.action(description="Pause follow-ups")
    def pause_followups(self, request, queryset):
        self._run(
            request,
            queryset,
            "Follow-ups paused",
            lambda q: services.pause_quote_followups(q, by=request.user),
        )

    @admin.action(description="Resume follow-ups")
    def resume_followups(self, request, queryset):
        self._run(
            request,
            queryset,
            "Follow-ups resumed",
            lambda q: services.resume_quote_followups(q, by=request.user),
        )
