"""Automation handlers: react to outbox events by running rules and steering sequences.

Each takes the OutboxEvent, loads what it names and calls a service in oms.automation.
All are safe to run twice: messages are keyed by the event, and starting, stopping,
pausing or resuming a sequence twice leaves the same rows.
"""

from oms.automation import services
from oms.outbox.models import OutboxEvent

QUOTE = services.QUOTE
INVOICE = services.INVOICE


def apply_event_rules(event: OutboxEvent) -> int:
    """Send what the enabled rules for this kind of event say (notifications, updates)."""
    subject = services.load(event.subject_type, event.subject_id)
    if subject is None:
        return 0
    if event.subject_type in ("invoicing.payment",):
        subject = subject.invoice
    return services.run_event_rules(event.kind, subject, key=f"e{event.pk}", payload=event.payload)


def _quote(event: OutboxEvent):
    if event.subject_type != QUOTE:
        return None
    return services.load(QUOTE, event.subject_id)


def _quotes_of_order(event: OutboxEvent):
    from quotes.models import Quote

    if event.order_id is None:
        return []
    return list(Quote.objects.filter(order_id=event.order_id))


def start_quote_followups(event: OutboxEvent) -> int:
    """A quote went out (or was extended): schedule its follow-up steps; earlier versions'
    steps stop, since the new version supersedes them."""
    quote = _quote(event)
    if quote is None:
        return 0
    for other in _quotes_of_order(event):
        if other.pk != quote.pk:
            services.stop_sequence(other, reason="A newer version of the quote was sent.")
    if quote.status != "sent":
        return 0
    return services.start_sequence(quote)


def stop_quote_followups(event: OutboxEvent) -> int:
    """The quote was answered, superseded or expired, or the order was lost or cancelled."""
    quote = _quote(event)
    quotes = [quote] if quote is not None else _quotes_of_order(event)
    reason = f"Stopped by {event.kind}."
    return sum(services.stop_sequence(q, reason=reason) for q in quotes)


def pause_quote_followups(event: OutboxEvent) -> int:
    quote = _quote(event)
    if quote is None or not quote.followups_paused:
        return 0
    return services.pause_sequence(quote, reason="Follow-ups paused by the salesperson.")


def resume_quote_followups(event: OutboxEvent) -> int:
    quote = _quote(event)
    if quote is None or quote.followups_paused:
        return 0
    return services.resume_sequence(quote)


def _invoice(event: OutboxEvent):
    """The invoice an invoicing event is about (for a credit note or payment: the original)."""
    invoice_id = event.payload.get("invoice_id")
    if event.subject_type == INVOICE and invoice_id is None:
        invoice_id = event.subject_id
    if invoice_id is None:
        return None
    return services.load(INVOICE, invoice_id)


def start_dunning(event: OutboxEvent) -> int:
    """An invoice was issued (or its dispute resolved): schedule the payment reminders."""
    invoice = _invoice(event)
    if invoice is None or invoice.kind == "credit_note" or not invoice.due_date:
        return 0
    if invoice.status in ("draft", "void", "paid") or invoice.disputed:
        return 0
    return services.start_sequence(invoice)


def stop_dunning(event: OutboxEvent) -> int:
    """Voided or disputed: reminders stop (a resolved dispute starts them again)."""
    invoice = _invoice(event)
    if invoice is None:
        return 0
    return services.stop_sequence(invoice, reason=f"Stopped by {event.kind}.")


def review_dunning(event: OutboxEvent) -> int:
    """A payment, credit or promise to pay: stop the reminders if nothing is left to chase.
    (A promise to pay is honoured when a step falls due: it waits until the promised day.)"""
    invoice = _invoice(event)
    if invoice is None:
        return 0
    reason = ""
    for rule_stop in services.Rule.objects.filter(enabled=True, anchor="invoice.due_date"):
        reason = services.stop_reason(rule_stop, invoice, invoice.order)
        if reason:
            break
    if not reason:
        return 0
    return services.stop_sequence(invoice, reason=f"Stopped: {reason}.")
