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


def email_invoice(event: OutboxEvent) -> None:
    """The invoice was sent: email its PDF to the customer's billing contact (else the
    primary contact) with a signed link to the customer's invoice page, and write the email
    on the order's timeline. The EmailLog key is the outbox event and the recipient, so one
    event never sends a second email."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.template.loader import render_to_string

    from customers.models import Contact
    from invoicing.pdf import invoice_pdf_filename, render_invoice_pdf
    from oms.automation.models import EmailLog
    from oms.automation.services import send_email
    from oms.links.services import invoice_url
    from orders.models import TimelineEvent
    from orders.services import record

    invoice = (
        Invoice.objects.select_related("order", "customer", "credited_invoice")
        .filter(pk=event.subject_id)
        .first()
    )
    if invoice is None or not invoice.is_issued:
        return
    contacts = invoice.customer.contacts.exclude(email="").filter(archived_at__isnull=True)
    contact = (
        contacts.filter(role=Contact.Role.BILLING).order_by("id").first()
        or contacts.order_by("id").first()
    )
    if contact is None:
        return
    to = contact.email
    key = f"invoice-email:{event.pk}:{to.lower()}"
    with transaction.atomic():
        if EmailLog.objects.filter(key=key).exists():
            return
        link = invoice_url(invoice)
        context = {
            "invoice": invoice,
            "order": invoice.order,
            "customer": invoice.customer,
            "contact": contact,
            "link": link,
            "company": settings.COMPANY,
        }
        subject = " ".join(render_to_string("invoicing/email_invoice_subject.txt", context).split())
        text = render_to_string("invoicing/email_invoice.txt", context)
        html = render_to_string("invoicing/email_invoice.html", context)
        filename = invoice_pdf_filename(invoice)
        pdf = render_invoice_pdf(invoice, link=link)
        send_email(
            key=key,
            to=to,
            subject=subject,
            text=text,
            html=html,
            order=invoice.order,
            attachments=[(filename, pdf, "application/pdf")],
        )
        actor = get_user_model().objects.filter(pk=event.actor_id).first()
        record(
            invoice.order,
            kind=TimelineEvent.Kind.COMMUNICATION,
            by=actor,
            automation="invoice email",
            message=f"{invoice} emailed to {to}.",
            subject=subject,
            body=text,
            recipients=[to],
            attachment=filename,
            invoice_id=invoice.pk,
            event=event.pk,
        )
