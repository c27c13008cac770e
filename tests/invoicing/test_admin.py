from decimal import Decimal

import pytest
from django.urls import reverse

from invoicing import services
from invoicing.models import Invoice, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, admin_user):
    client.force_login(admin_user)
    return client


def _act(client, action: str, invoice, **fields):
    return client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": action, "_selected_action": [invoice.pk], "index": 0, **fields},
        follow=True,
    )


def test_admin_lists_and_shows_invoices_read_only(admin_client_for, order_at):
    invoice = services.draft_invoice_for_order(order_at("delivered"))
    listing = admin_client_for.get(reverse("admin:invoicing_invoice_changelist"))
    assert listing.status_code == 200
    detail = admin_client_for.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert detail.status_code == 200
    assert b'name="status"' not in detail.content  # the state is shown, never edited
    assert b'name="gross_total"' not in detail.content


def test_admin_cannot_add_or_delete(admin_client_for, order_at):
    invoice = services.draft_invoice_for_order(order_at("delivered"))
    assert admin_client_for.get(reverse("admin:invoicing_invoice_add")).status_code == 403
    url = reverse("admin:invoicing_invoice_delete", args=[invoice.pk])
    assert admin_client_for.post(url, {"post": "yes"}).status_code == 403
    listing = admin_client_for.get(reverse("admin:invoicing_invoice_changelist"))
    assert b"delete_selected" not in listing.content
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_admin_approve_action_goes_through_the_service(admin_client_for, order_at):
    order = order_at("delivered")
    invoice = services.draft_invoice_for_order(order)
    response = _act(admin_client_for, "approve", invoice)
    assert b"Approved: 1 invoice" in response.content
    invoice.refresh_from_db()
    assert invoice.number.startswith("INV-")
    order.refresh_from_db()
    assert order.status == "invoiced"


def test_admin_payment_and_void_actions_report_refusals(admin_client_for, order_at, finance):
    invoice = services.approve_invoice(
        services.draft_invoice_for_order(order_at("delivered")), by=finance
    )
    response = _act(admin_client_for, "void", invoice, reason="")
    assert b"A reason is required" in response.content
    assert Invoice.objects.get(pk=invoice.pk).status == "approved"
    response = _act(admin_client_for, "record_payment", invoice, amount="20.00")
    assert b"Payment recorded: 1 invoice" in response.content
    assert Payment.objects.get().amount == Decimal("20.00")


def test_admin_credit_action(admin_client_for, order_at, finance):
    invoice = services.approve_invoice(
        services.draft_invoice_for_order(order_at("delivered")), by=finance
    )
    _act(admin_client_for, "credit", invoice, reason="Damaged", amount="10.00")
    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert note.gross_total == Decimal("10.00")
    assert note.credited_invoice_id == invoice.pk


def test_payment_admin_is_read_only(admin_client_for, order_at, finance):
    invoice = services.approve_invoice(
        services.draft_invoice_for_order(order_at("delivered")), by=finance
    )
    payment = services.record_payment(invoice, by=finance, amount=Decimal("5"))
    assert admin_client_for.get(reverse("admin:invoicing_payment_add")).status_code == 403
    detail = admin_client_for.get(reverse("admin:invoicing_payment_change", args=[payment.pk]))
    assert detail.status_code == 200
    assert b'name="amount"' not in detail.content


def test_receipts_credit_time_and_bank_lines_are_read_only(admin_client_for, order_at, finance):
    from invoicing.banking.services import import_statement
    from invoicing.models import CustomerCredit, Receipt, TimeEntry
    from tests.factories import CustomerFactory

    receipt = services.receive_payment(
        CustomerFactory(), by=finance, amount=Decimal("5"), currency="GBP", allocations={}
    )
    entry = services.record_time_entry(
        order_at("in_progress"),
        by=finance,
        person="Sam",
        date=receipt.date,
        hours="1",
        rate="40",
        description="Survey",
    )
    line = import_statement(
        by=finance,
        filename="s.csv",
        content=b"Date,Amount,Reference\n2026-01-05,5.00,X\n",
        currency="GBP",
    ).lines.get()
    pages = {
        "invoicing_receipt": receipt.pk,
        "invoicing_customercredit": CustomerCredit.objects.get().pk,
        "invoicing_timeentry": entry.pk,
        "banking_bankline": line.pk,
        "banking_bankstatement": line.statement_id,
    }
    for model, pk in pages.items():
        assert admin_client_for.get(reverse(f"admin:{model}_add")).status_code == 403
        assert admin_client_for.get(reverse(f"admin:{model}_changelist")).status_code == 200
        detail = admin_client_for.get(reverse(f"admin:{model}_change", args=[pk]))
        assert detail.status_code == 200
        assert b'name="amount"' not in detail.content
        assert b'name="hours"' not in detail.content
    assert Receipt.objects.count() == 1
    assert TimeEntry.objects.count() == 1
