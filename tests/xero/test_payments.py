"""Payments made in Xero come back (poll and webhook) and drive the order to paid, once."""

from decimal import Decimal

import pytest

from invoicing.accounting import handlers, services
from invoicing.accounting.models import PulledPayment, SyncRecord, WebhookEvent
from invoicing.models import Invoice, Payment
from oms.outbox.models import OutboxEvent
from orders.models import Order
from tests.xero.conftest import WEBHOOK_KEY
from tests.xero.fake_xero import invoice_event, sign, webhook_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(connected, approved_invoice):
    invoice = approved_invoice()
    record = services.sync_invoice(invoice.pk)
    return invoice, record.external_id


def test_payment_made_in_xero_is_pulled_back_and_marks_the_order_paid(pushed, xero):
    invoice, remote_id = pushed
    xero.pay_in_xero(remote_id, invoice.gross_total, reference="BACS 4471")

    assert services.poll_payments() == 1

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.order.status == Order.Status.PAID
    [payment] = invoice.payments.all()
    assert payment.amount == invoice.gross_total
    assert payment.reference == "BACS 4471"
    assert payment.external_id in xero.payments
    assert services.poll_payments() == 0  # the overlap window finds it again: still once
    assert invoice.payments.count() == 1


def test_a_part_payment_in_xero_leaves_the_invoice_part_paid(pushed, xero):
    invoice, remote_id = pushed
    xero.pay_in_xero(remote_id, Decimal("20.00"))

    services.poll_payments()

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PART_PAID
    assert invoice.amount_paid == Decimal("20.00")
    assert invoice.order.status != Order.Status.PAID


def test_a_pulled_payment_is_not_pushed_back_to_xero(pushed, xero):
    invoice, remote_id = pushed
    xero.pay_in_xero(remote_id, invoice.gross_total)
    services.poll_payments()
    payment = invoice.payments.get()

    record = services.sync_payment(payment.pk)

    assert record.status == SyncRecord.Status.SYNCED
    assert record.external_id == payment.external_id
    assert len(xero.payments) == 1
    assert not [c for c in xero.api_calls() if c.method == "PUT" and "/Payments" in c.path]


def test_a_payment_pushed_from_the_oms_is_not_pulled_back_as_a_second(pushed, xero, finance):
    from invoicing.services import record_payment

    invoice, _ = pushed
    payment = record_payment(invoice, by=finance, amount=invoice.gross_total)
    services.sync_payment(payment.pk)

    assert services.poll_payments() == 0

    invoice.refresh_from_db()
    assert invoice.payments.count() == 1
    assert invoice.amount_paid == invoice.gross_total


def test_a_webhook_with_a_bad_signature_gets_401(client, pushed):
    body = webhook_body([invoice_event(pushed[1])])

    response = client.post(
        "/xero/webhook",
        data=body,
        content_type="application/json",
        headers={"x-xero-signature": sign(body, "not-our-key")},
    )
    unsigned = client.post("/xero/webhook", data=body, content_type="application/json")

    assert response.status_code == 401
    assert unsigned.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_the_intent_to_receive_check_is_answered(client, connected):
    body = webhook_body([])

    response = client.post(
        "/xero/webhook",
        data=body,
        content_type="application/json",
        headers={"x-xero-signature": sign(body, WEBHOOK_KEY)},
    )

    assert response.status_code == 200


def test_a_duplicate_webhook_delivery_is_processed_once(
    client, pushed, xero, django_capture_on_commit_callbacks
):
    invoice, remote_id = pushed
    xero.pay_in_xero(remote_id, invoice.gross_total)
    event = invoice_event(remote_id)

    def deliver():
        body = webhook_body([event])  # Xero re-sends the same event in a fresh envelope
        with django_capture_on_commit_callbacks(execute=False):
            return client.post(
                "/xero/webhook",
                data=body,
                content_type="application/json",
                headers={"x-xero-signature": sign(body, WEBHOOK_KEY)},
            )

    assert deliver().status_code == 200
    assert deliver().status_code == 200

    [stored] = WebhookEvent.objects.all()
    assert services.process_webhook_event(stored.pk) == 1
    assert services.process_webhook_event(stored.pk) == 0
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.payments.count() == 1
    assert PulledPayment.objects.count() == 1


def test_approval_credit_and_payment_events_queue_pushes(
    connected, approved_invoice, manager, finance, django_capture_on_commit_callbacks
):
    from invoicing.services import create_credit_note, record_payment

    invoice = approved_invoice()
    note = create_credit_note(invoice, by=manager, reason="Short delivery", amount=Decimal("10"))
    payment = record_payment(invoice, by=finance, amount=Decimal("5.00"))
    routed = {
        "invoice.approved": handlers.push_invoice_to_accounting,
        "invoice.credited": handlers.push_invoice_to_accounting,
        "payment.recorded": handlers.push_payment_to_accounting,
    }

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for kind, handler in routed.items():
            for event in OutboxEvent.objects.filter(kind=kind):
                handler(event)
                handler(event)  # delivered twice: still one record each

    records = {(r.kind, r.local_id): r.status for r in SyncRecord.objects.all()}
    assert records == {
        ("invoice", invoice.pk): "pending",
        ("credit_note", note.pk): "pending",
        ("payment", payment.pk): "pending",
    }
    assert len(callbacks) == 6


def test_routes_send_invoice_and_payment_events_to_xero():
    from oms.outbox.routes import ROUTES

    assert handlers.push_invoice_to_accounting in ROUTES["invoice.approved"]
    assert handlers.push_invoice_to_accounting in ROUTES["invoice.credited"]
    assert handlers.push_void_credit_to_accounting in ROUTES["invoice.voided"]
    assert handlers.push_payment_to_accounting in ROUTES["payment.recorded"]


def test_nothing_is_queued_while_xero_was_never_connected(approved_invoice):
    invoice = approved_invoice()

    handlers.push_invoice_to_accounting(OutboxEvent.objects.get(kind="invoice.approved"))

    assert not SyncRecord.objects.exists()
    assert Payment.objects.count() == 0
    assert invoice.status == Invoice.Status.APPROVED
