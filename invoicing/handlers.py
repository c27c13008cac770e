"""Invoicing handlers: load what the event names, call an invoicing service.

Safe to run twice: draft_invoice_for_order returns the existing draft final invoice, and
the outbox runner commits each handler's work with its completion row.
"""

from django.core.exceptions import ValidationError

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


def raise_milestone_invoice(event: OutboxEvent) -> Invoice | None:
    """A milestone was signed off: draft its milestone invoice for finance. Safe to run
    twice: a second run finds the invoice already raised for this milestone."""
    from decimal import Decimal

    from invoicing.services import create_milestone_invoice

    order = Order.objects.filter(pk=event.order_id).first()
    if order is None:
        return None
    description = f"Milestone: {event.payload['description']}"
    existing = (
        Invoice.objects.filter(
            order=order, kind=Invoice.Kind.MILESTONE, lines__description=description
        )
        .exclude(status=Invoice.Status.VOID)
        .first()
    )
    if existing is not None:
        return existing
    try:
        return create_milestone_invoice(
            order, by=None, description=description, amount=Decimal(event.payload["amount"])
        )
    except ValidationError:
        # A business refusal (a final invoice exists, the order is held) will not change on
        # retry; the sign-off stays on the timeline and finance bills it by hand.
        return None
