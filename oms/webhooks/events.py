"""The public event types: stable names and payloads for the tools around the OMS.

Internal outbox kinds may change; these names and the shape of their `data` do not. Each
outbox kind maps to the public types it becomes; a payload is built once, when the event
fans out, so every retry sends the same body.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from oms.outbox.models import OutboxEvent

PING = "ping"

# (public type, what it means), in the order managers see them.
EVENT_TYPES: list[tuple[str, str]] = [
    ("order.created", "An enquiry was captured"),
    ("order.confirmed", "The customer confirmed the order"),
    ("order.started", "Work started"),
    ("order.held", "The order was put on hold"),
    ("order.resumed", "The order came off hold"),
    ("order.delivered", "The order was delivered"),
    ("order.invoiced", "Invoices cover the order total"),
    ("order.paid", "Every invoice of the order is paid"),
    ("order.cancelled", "The order was cancelled"),
    ("order.lost", "The enquiry was lost"),
    ("quote.sent", "A quote was sent"),
    ("quote.accepted", "The customer accepted a quote"),
    ("quote.declined", "The customer declined a quote"),
    ("quote.expired", "A quote expired unanswered"),
    ("invoice.approved", "An invoice was approved"),
    ("invoice.sent", "An invoice was sent to the customer"),
    ("invoice.paid", "An invoice was paid in full"),
    ("invoice.voided", "An invoice was voided"),
    ("payment.received", "A payment was recorded against an invoice"),
]
EVENT_TYPE_NAMES = frozenset(name for name, _ in EVENT_TYPES)

# Internal outbox kind -> the public types it becomes. Kinds not listed are not published.
SOURCES: dict[str, tuple[str, ...]] = {
    "order.created": ("order.created",),
    "order.confirmed": ("order.confirmed",),
    "order.started": ("order.started",),
    "order.held": ("order.held",),
    "order.resumed": ("order.resumed",),
    "order.delivered": ("order.delivered",),
    "order.invoiced": ("order.invoiced",),
    "order.paid": ("order.paid",),
    "order.cancelled": ("order.cancelled",),
    "order.lost": ("order.lost",),
    "quote.sent": ("quote.sent",),
    "quote.accepted": ("quote.accepted",),
    "quote.declined": ("quote.declined",),
    "quote.expired": ("quote.expired",),
    "invoice.approved": ("invoice.approved",),
    "invoice.sent": ("invoice.sent",),
    "invoice.voided": ("invoice.voided",),
    "payment.recorded": ("payment.received", "invoice.paid"),
}


@dataclass(frozen=True)
class PublicEvent:
    type: str
    id: uuid.UUID
    created: datetime
    data: dict

    def body(self) -> str:
        """The exact bytes that are signed and sent (compact, keys in a stable order)."""
        envelope = {
            "id": str(self.id),
            "type": self.type,
            "created": self.created.isoformat(),
            "data": self.data,
        }
        return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":"))


def event_id(source: OutboxEvent, event_type: str) -> uuid.UUID:
    """One id per public event, the same at every endpoint, so receivers can de-duplicate."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"oms-event:{source.pk}:{event_type}")


def public_events(source: OutboxEvent) -> list[PublicEvent]:
    """The public events an outbox event becomes (none when its subject is gone)."""
    subject = _load(source)
    if subject is None:
        return []
    events = []
    for event_type in SOURCES.get(source.kind, ()):
        data = BUILDERS[event_type](subject, source)
        if data is not None:
            events.append(
                PublicEvent(event_type, event_id(source, event_type), source.created_at, data)
            )
    return events


def _load(source: OutboxEvent) -> models.Model | None:
    from django.apps import apps

    try:
        model = apps.get_model(source.subject_type)
    except LookupError:
        return None
    return model._default_manager.filter(pk=source.subject_id).first()


# --- payload pieces: amounts are strings, states are the stored lower-case names ----------


def _money(amount) -> str | None:
    return None if amount is None else str(amount)


def _date(value) -> str | None:
    return value.isoformat() if value else None


def customer_data(customer) -> dict:
    return {"id": customer.pk, "name": customer.name, "reference": customer.external_ref or None}


def order_data(order) -> dict:
    return {
        "number": order.number,
        "title": order.title,
        "state": order.status,
        "customer": customer_data(order.customer),
        "currency": order.currency,
        "net_total": _money(order.net_total),
        "tax_total": _money(order.tax_total),
        "gross_total": _money(order.gross_total),
        "po_reference": order.po_reference or None,
        "requested_date": _date(order.requested_date),
        "agreed_date": _date(order.agreed_date),
    }


def quote_data(quote) -> dict:
    return {
        "reference": quote.reference,
        "version": quote.version,
        "state": quote.status,
        "net_total": _money(quote.net_total),
        "tax_total": _money(quote.tax_total),
        "gross_total": _money(quote.gross_total),
        "valid_until": _date(quote.valid_until),
    }


def invoice_data(invoice) -> dict:
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "state": invoice.status,
        "currency": invoice.currency,
        "issue_date": _date(invoice.issue_date),
        "due_date": _date(invoice.due_date),
        "net_total": _money(invoice.net_total),
        "tax_total": _money(invoice.tax_total),
        "gross_total": _money(invoice.gross_total),
        "amount_paid": _money(invoice.amount_paid),
        "amount_credited": _money(invoice.amount_credited),
        "outstanding": _money(invoice.outstanding),
    }


def payment_data(payment) -> dict:
    return {
        "id": payment.pk,
        "amount": _money(payment.amount),
        "date": _date(payment.date),
        "method": payment.method,
        "reference": payment.reference or None,
    }


def _order_event(order, source: OutboxEvent) -> dict:
    payload = source.payload or {}
    transition = {
        key: payload[key] for key in ("from_state", "to_state", "reason") if payload.get(key)
    }
    return {"order": order_data(order), **transition}


def _quote_event(quote, source: OutboxEvent) -> dict:
    return {"quote": quote_data(quote), "order": order_data(quote.order)}


def _invoice_event(invoice, source: OutboxEvent) -> dict:
    return {"invoice": invoice_data(invoice), "order": order_data(invoice.order)}


def _payment_received(payment, source: OutboxEvent) -> dict:
    invoice = payment.invoice
    return {
        "payment": payment_data(payment),
        "invoice": invoice_data(invoice),
        "order": order_data(invoice.order),
    }


def _invoice_paid(payment, source: OutboxEvent) -> dict | None:
    """Only for the payment that settled the invoice: it is paid and no later payment
    exists, so the event is sent once even when an earlier payment fans out late."""
    invoice = payment.invoice
    if invoice.status != invoice.Status.PAID:
        return None
    if invoice.payments.filter(pk__gt=payment.pk).exists():
        return None
    return _invoice_event(invoice, source)


Builder = Callable[[models.Model, OutboxEvent], dict | None]

BUILDERS: dict[str, Builder] = {
    **{name: _order_event for name in EVENT_TYPE_NAMES if name.startswith("order.")},
    **{name: _quote_event for name in EVENT_TYPE_NAMES if name.startswith("quote.")},
    "invoice.approved": _invoice_event,
    "invoice.sent": _invoice_event,
    "invoice.voided": _invoice_event,
    "invoice.paid": _invoice_paid,
    "payment.received": _payment_received,
}


def ping_event(now: datetime) -> PublicEvent:
    return PublicEvent(PING, uuid.uuid4(), now, {"message": "A test ping from the OMS."})
