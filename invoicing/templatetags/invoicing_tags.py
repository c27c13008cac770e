"""Invoicing fragments other apps' pages embed (the order page's billing section)."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from invoicing import services
from invoicing.forms import DepositForm, MilestoneForm, TimeEntryForm
from invoicing.models import CustomerCredit
from invoicing.queries import billing_summary, time_entries_for_order
from oms.accounts.roles import Role, has_role

register = template.Library()


@register.inclusion_tag("invoicing/_billing_summary.html", takes_context=True)
def order_billing_summary(context, order) -> dict:
    """Ordered, delivered, invoiced, credited, paid and outstanding for one order, its time
    entries, and the billing actions the viewer may take."""
    request = context.get("request")
    user = getattr(request, "user", None)
    finance = has_role(user, Role.FINANCE)
    staged = order.status in services.STAGED_STATES
    return {
        "summary": billing_summary(order),
        "order": order,
        "time_entries": list(time_entries_for_order(order)),
        "can_record_time": staged and has_role(user, Role.OPERATIONS, Role.FINANCE),
        "can_raise_staged": staged and finance,
        "finance": finance,
        "credit_balance": (
            CustomerCredit.objects.balance(order.customer_id, order.currency) if finance else None
        ),
        "time_form": TimeEntryForm(initial={"date": timezone.localdate()}),
        "deposit_form": DepositForm(),
        "milestone_form": MilestoneForm(),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def customer_billing_link(context, customer) -> str:
    """A link to the customer's billing page (receipts, credit), for finance only."""
    request = context.get("request")
    if not has_role(getattr(request, "user", None), Role.FINANCE):
        return ""
    url = reverse("invoicing:customer_billing", args=[customer.pk])
    return format_html(' <a class="small" href="{}">Billing and credit</a>', url)
