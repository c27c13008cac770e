"""Invoicing handlers: load what the event names, call an invoicing service.

Safe to run twice: draft_invoice_for_order returns the existing draft final invoice, and
the outbox runner commits each handler's work with its completion row.
"""

from invoicing.models import Invoice
from invoicing.services import draft_invoice_for_order
from oms.outbox.models import OutboxEvent
from orders.models import Order


def draft_invoice(event: OutboxEvent) -> Invoice | None:
    """The order was delivered: draft the final invoice for finance to review."""
    order = Order.objects.filter(pk=event.order_id).first()
    if order is None:
        return None
    existing = (
        Invoice.objects.filter(order=order, kind=Invoice.Kind.FINAL)
        .exclude(status=Invoice.Status.VOID)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    if order.status != Order.Status.DELIVERED:
        return None  # reworked or moved on since; a later delivery drafts it
    return draft_invoice_for_order(order, by=None, automation="invoice drafting")
