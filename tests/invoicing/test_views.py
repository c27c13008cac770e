"""Finance pages: the draft review queue, editing, approving and sending, payments and
corrections through the browser, and who may do them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from invoicing import services
from invoicing.models import Invoice, Payment
from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(order_at, finance):
    return services.draft_invoice_for_order(order_at("delivered"), by=finance)


@pytest.fixture
def issued(draft, finance):
    return services.approve_invoice(draft, by=finance)


def test_draft_queue_shows_order_customer_amount_and_lag(client, finance, draft):
    client.force_login(finance)
    response = client.get(reverse("invoicing:drafts"))
    assert response.status_code == 200
    page = response.content.decode()
    assert draft.order.number in page
    assert draft.customer.name in page
    assert "GBP 120.00" in page
    assert "0 days" in page


@pytest.mark.parametrize("rows", [10, 100])
def test_draft_queue_pins_queries(client, finance, order_at, rows, django_assert_max_num_queries):
    for _ in range(rows):
        services.draft_invoice_for_order(order_at("delivered"), by=finance)
    client.force_login(finance)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("invoicing:drafts"))
    assert response.content.count(b"data-invoice=") == min(rows, 50)  # one page


def test_edit_draft_lines_recorded_on_timeline(client, finance, draft):
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:edit_lines", args=[draft.pk]),
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-description": "Widget",
            "form-0-quantity": "1",
            "form-0-unit_price": "100.00",
            "form-0-tax_rate": "20",
            "form-1-description": "Call-out",
            "form-1-quantity": "1",
            "form-1-unit_price": "50.00",
            "form-1-tax_rate": "20",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("180.00")
    assert TimelineEvent.objects.filter(
        order=draft.order, message__startswith="Draft invoice lines changed"
    ).exists()


def test_approve_numbers_and_dates_from_terms(client, finance, draft):
    client.force_login(finance)
    client.post(reverse("invoicing:approve", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.APPROVED
    assert draft.number.startswith("INV-") and draft.number.endswith("-00001")
    assert (draft.due_date - draft.issue_date).days == draft.customer.payment_terms_days


def test_send_marks_sent_and_publishes(client, finance, issued):
    client.force_login(finance)
    client.post(reverse("invoicing:send", args=[issued.pk]))
    issued.refresh_from_db()
    assert issued.status == Invoice.Status.SENT
    assert OutboxEvent.objects.filter(kind="invoice.sent", subject_id=issued.pk).exists()


def test_sales_cannot_approve_or_record_payments(client, sales, draft, order_at, finance):
    client.force_login(sales)
    assert client.post(reverse("invoicing:approve", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == Invoice.Status.DRAFT and draft.number is None
    other = services.approve_invoice(
        services.draft_invoice_for_order(order_at("delivered"), by=finance), by=finance
    )
    response = client.post(
        reverse("invoicing:record_payment", args=[other.pk]),
        {"amount": "10.00", "currency": "GBP", "method": "bank_transfer"},
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_payment_recorded_part_paid(client, finance, issued):
    client.force_login(finance)
    client.post(
        reverse("invoicing:record_payment", args=[issued.pk]),
        {"amount": "20.00", "currency": "GBP", "method": "bank_transfer", "reference": "BACS"},
    )
    issued.refresh_from_db()
    assert issued.status == Invoice.Status.PART_PAID
    assert issued.amount_paid == Decimal("20.00")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"amount": "500.00", "currency": "GBP"}, "more than the GBP 120.00 outstanding"),
        ({"amount": "10.00", "currency": "EUR"}, "a EUR payment cannot be recorded"),
        ({"amount": "-5", "currency": "GBP"}, "greater than or equal to 0.01"),
    ],
)
def test_bad_payment_rejected_with_message_and_nothing_recorded(
    client, finance, issued, data, message
):
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:record_payment", args=[issued.pk]),
        {"method": "bank_transfer", **data},
        follow=True,
    )
    assert message in response.content.decode()
    assert not Payment.objects.exists()
    issued.refresh_from_db()
    assert issued.amount_paid == Decimal("0.00")


def test_credit_note_returns_order_from_invoiced_to_delivered(client, finance, issued):
    assert issued.order.status == Order.Status.INVOICED
    client.force_login(finance)
    client.post(
        reverse("invoicing:credit", args=[issued.pk]), {"reason": "Damaged", "amount": "12.00"}
    )
    issued.order.refresh_from_db()
    assert issued.order.status == Order.Status.DELIVERED
    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert note.number.startswith("CN-") and note.gross_total == Decimal("12.00")


def test_void_needs_a_reason(client, finance, issued):
    client.force_login(finance)
    response = client.post(reverse("invoicing:void", args=[issued.pk]), {"reason": ""}, follow=True)
    assert "A reason is required to void an invoice." in response.content.decode()
    issued.refresh_from_db()
    assert issued.status == Invoice.Status.APPROVED


def test_invoice_of_another_id_is_404_not_leaked(client, finance, issued):
    client.force_login(finance)
    assert client.get(reverse("invoicing:detail", args=[issued.pk + 999])).status_code == 404


def test_detail_pins_queries(client, finance, issued, django_assert_max_num_queries):
    client.force_login(finance)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("invoicing:detail", args=[issued.pk]))
    assert issued.number in response.content.decode()


def test_order_page_shows_billing_summary(client, finance, issued):
    services.record_payment(issued, by=finance, amount=Decimal("20.00"))
    client.force_login(finance)
    response = client.get(reverse("orders:detail", args=[issued.order.number]))
    page = response.content.decode()
    assert 'id="order-billing"' in page
    assert "<dt>Paid</dt><dd>GBP 20.00</dd>" in page
    assert "<dt>Outstanding</dt><dd>GBP 100.00</dd>" in page


def test_customer_query_through_link_opens_dispute(client, issued):
    from oms.links.services import issue_link

    token = issue_link(issued, purpose="invoice").token
    response = client.post(
        reverse("invoicing:public_query", args=[token]), {"reason": "Two units, not three"}
    )
    assert response.status_code == 200
    issued.refresh_from_db()
    assert issued.disputed
    assert issued.dispute_reason == "Customer query: Two units, not three"
    assert OutboxEvent.objects.filter(kind="invoice.disputed", subject_id=issued.pk).exists()


def test_customer_query_with_tampered_token_is_404(client, issued):
    response = client.post(reverse("invoicing:public_query", args=["nope"]), {"reason": "x"})
    assert response.status_code == 404
