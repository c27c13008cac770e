"""Accounting handlers: approved invoices, credit notes and recorded payments go to Xero.

Each handler loads what the event names and queues the push (a SyncRecord marked pending, a
Celery task after commit). Running one twice is harmless: the push is idempotent.
"""

from customers.models import Customer
from invoicing.accounting import services
from invoicing.accounting.models import SyncRecord
from invoicing.models import Invoice, Payment
from oms.outbox.models import OutboxEvent


def push_invoice_to_accounting(event: OutboxEvent) -> None:
    """invoice.approved and invoice.credited."""
    invoice = Invoice.objects.filter(pk=event.subject_id).first()
    if invoice is None or not invoice.is_issued:
        return
    kind = SyncRecord.Kind.CREDIT_NOTE if invoice.is_credit_note else SyncRecord.Kind.INVOICE
    services.queue_sync(kind, invoice)


def push_void_credit_to_accounting(event: OutboxEvent) -> None:
    """invoice.voided: the credit note that squares a voided invoice goes to Xero too."""
    credit_note_id = (event.payload or {}).get("credit_note_id")
    note = Invoice.objects.filter(pk=credit_note_id).first() if credit_note_id else None
    if note is not None and note.is_issued:
        services.queue_sync(SyncRecord.Kind.CREDIT_NOTE, note)


def push_payment_to_accounting(event: OutboxEvent) -> None:
    """payment.recorded; payments that came from Xero are only marked as synced."""
    payment = Payment.objects.select_related("invoice").filter(pk=event.subject_id).first()
    if payment is None:
        return
    services.queue_sync(SyncRecord.Kind.PAYMENT, payment)


def push_contact_to_accounting(event: OutboxEvent) -> None:
    """customer changes: keep the Xero contact's details current once it exists."""
    customer = Customer.objects.filter(pk=event.subject_id).first()
    if customer is None:
        return
    if SyncRecord.objects.filter(
        kind=SyncRecord.Kind.CONTACT, local_id=customer.pk, status=SyncRecord.Status.SYNCED
    ).exists():
        services.queue_sync(SyncRecord.Kind.CONTACT, customer)
