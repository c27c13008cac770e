"""The invoice PDF and the email that carries it."""

import io
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from invoicing import handlers, services
from invoicing.pdf import render_invoice_pdf
from oms.automation.models import EmailLog
from oms.outbox import runner
from oms.outbox.models import OutboxEvent
from oms.outbox.routes import handler_name
from orders.models import TimelineEvent
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _issued(order_at, finance):
    draft = services.draft_invoice_for_order(order_at("delivered"), by=finance)
    return services.approve_invoice(draft, by=finance)


def test_invoice_pdf_is_a_pdf_with_number_total_and_bank_details(order_at, finance, settings):
    invoice = _issued(order_at, finance)
    pdf = render_invoice_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert invoice.number in text
    assert str(invoice.gross_total) in text
    assert invoice.gross_total == Decimal("120.00")
    assert settings.COMPANY["bank_details"] in text
    assert invoice.order.number in text


def test_send_emails_pdf_to_billing_contact_once_and_logs_it(order_at, finance):
    invoice = _issued(order_at, finance)
    ContactFactory(customer=invoice.customer, email="accounts@customer.example", role="billing")
    ContactFactory(customer=invoice.customer, email="boss@customer.example", role="primary")
    services.send_invoice(invoice, by=finance)
    event = OutboxEvent.objects.get(kind="invoice.sent", subject_id=invoice.pk)
    name = handler_name(handlers.email_invoice)
    runner.run(event.pk, name)
    runner.run(event.pk, name)  # a duplicate delivery sends nothing more
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["accounts@customer.example"]
    assert invoice.number in message.subject
    filename, content, mimetype = message.attachments[0]
    assert filename == f"{invoice.number}.pdf" and mimetype == "application/pdf"
    assert invoice.number in _text(content)
    assert "/invoice-link/" in message.body
    assert EmailLog.objects.filter(key__startswith=f"invoice-email:{event.pk}:").count() == 1
    assert TimelineEvent.objects.filter(
        order=invoice.order, kind=TimelineEvent.Kind.COMMUNICATION, message__contains="emailed"
    ).exists()
