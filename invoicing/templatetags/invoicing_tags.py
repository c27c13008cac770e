"""Invoicing fragments other apps' pages embed (the order page's billing summary)."""

from django import template

from invoicing.queries import billing_summary

register = template.Library()


@register.inclusion_tag("invoicing/_billing_summary.html")
def order_billing_summary(order) -> dict:
    """Ordered, delivered, invoiced, credited, paid and outstanding for one order."""
    return {"summary": billing_summary(order)}
