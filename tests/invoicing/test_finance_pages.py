"""Finance's pages for credit, receipts, staged billing, time and in-place line edits."""

from decimal import Decimal

import pytest
from django.urls import reverse

from invoicing import services
from invoicing.models import CustomerCredit, Invoice, Payment, Receipt, TimeEntry
from orders.models import TimelineEvent
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def draft(order_at, finance):
    return services.draft_invoice_for_order(order_at("delivered"), by=finance)


@pytest.fixture
def issued(draft, finance):
    return services.approve_invoice(draft, by=finance)


def _page(response) -> str:
    return response.content.decode()


# --- receipts and customer credit -------------------------------------------------------


def test_receipt_over_the_invoices_becomes_credit_shown_on_the_billing_page(
    client, finance, issued
):
    client.force_login(finance)
    url = reverse("invoicing:customer_receive_payment", args=[issued.customer_id])
    response = client.post(
        url,
        {
            "amount": "150.00",
            "currency": "GBP",
            "method": "bank_transfer",
            "reference": "BACS 1",
            f"alloc-{issued.pk}": "120.00",
        },
        follow=True,
    )
    assert response.status_code == 200
    page = _page(response)
    assert "GBP 30.00 kept as customer credit" in page
    assert 'class="credit-balance">GBP 30.00<' in page
    issued.refresh_from_db()
    assert issued.status == Invoice.Status.PAID


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "150.00", "currency": "EUR"}, "a EUR payment cannot be recorded"),
        ({"amount": "100.00", "currency": "GBP"}, "more than the GBP 100.00 received"),
        ({"amount": "-1", "currency": "GBP"}, "greater than or equal to 0.01"),
    ],
)
def test_bad_receipt_is_refused_in_the_page_and_records_nothing(
    client, finance, issued, data, message
):
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:customer_receive_payment", args=[issued.customer_id]),
        {"method": "bank_transfer", f"alloc-{issued.pk}": "120.00", **data},
    )
    assert response.status_code == 400
    assert message in _page(response)
    assert not Receipt.objects.exists()
    assert not Payment.objects.exists()


def test_sales_cannot_record_receipts(client, sales, issued):
    client.force_login(sales)
    response = client.post(
        reverse("invoicing:customer_receive_payment", args=[issued.customer_id]),
        {"amount": "10", "currency": "GBP", "method": "bank_transfer"},
    )
    assert response.status_code == 403
    assert not Receipt.objects.exists()


def test_apply_credit_from_the_invoice_page(client, finance, issued):
    services.receive_payment(
        issued.customer, by=finance, amount=Decimal("50.00"), currency="GBP", allocations={}
    )
    client.force_login(finance)
    page = _page(client.get(reverse("invoicing:detail", args=[issued.pk])))
    assert 'id="invoice-apply-credit"' in page
    assert "holds GBP 50.00 of credit" in page
    response = client.post(reverse("invoicing:apply_credit", args=[issued.pk]), {}, follow=True)
    assert "Customer credit applied." in _page(response)
    issued.refresh_from_db()
    assert issued.outstanding == Decimal("70.00")
    assert CustomerCredit.objects.balance(issued.customer, "GBP") == Decimal("0.00")


def test_apply_credit_refused_with_a_message_when_there_is_none(client, finance, issued):
    client.force_login(finance)
    page = _page(client.get(reverse("invoicing:detail", args=[issued.pk])))
    assert 'id="invoice-apply-credit"' not in page
    response = client.post(
        reverse("invoicing:apply_credit", args=[issued.pk]), {"amount": "5"}, follow=True
    )
    assert "holds no GBP credit" in _page(response)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("rows", [10, 100])
def test_customer_billing_page_pins_queries(
    client, finance, issued, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        services.receive_payment(
            issued.customer, by=finance, amount=Decimal("1.00"), currency="GBP", allocations={}
        )
    client.force_login(finance)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("invoicing:customer_billing", args=[issued.customer_id]))
    assert f"GBP {rows}.00" in _page(response)


# --- staged billing and time from the order page ------------------------------------------


def test_finance_drafts_a_deposit_from_the_order_page(client, finance, order_at):
    order = order_at("confirmed")
    client.force_login(finance)
    page = _page(client.get(reverse("orders:detail", args=[order.number])))
    assert 'id="order-deposit-form"' in page
    assert 'id="order-milestone-form"' in page
    response = client.post(reverse("invoicing:deposit", args=[order.number]), {"percent": "25"})
    deposit = Invoice.objects.get(order=order)
    assert response.status_code == 302
    assert response.url == reverse("invoicing:detail", args=[deposit.pk])
    assert deposit.kind == Invoice.Kind.DEPOSIT
    assert deposit.gross_total == Decimal("30.00")


def test_deposit_needs_percent_or_amount_not_both(client, finance, order_at):
    order = order_at("confirmed")
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:deposit", args=[order.number]),
        {"percent": "10", "amount": "10"},
        follow=True,
    )
    assert "a percentage or as an amount" in _page(response)
    assert not Invoice.objects.exists()


def test_milestone_over_the_order_total_is_refused(client, finance, order_at):
    order = order_at("in_progress")
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:milestone", args=[order.number]),
        {"description": "Stage 1", "amount": "150.00"},
        follow=True,
    )
    assert "more than the order&#x27;s net total" in _page(response)
    assert not Invoice.objects.exists()
    response = client.post(
        reverse("invoicing:milestone", args=[order.number]),
        {"description": "Stage 1", "amount": "40.00"},
    )
    assert Invoice.objects.get().kind == Invoice.Kind.MILESTONE


def test_operations_records_time_listed_on_the_billing_section(client, operations, order_at):
    order = order_at("in_progress")
    client.force_login(operations)
    response = client.post(
        reverse("invoicing:time_entry", args=[order.number]),
        {
            "person": "Sam Fitter",
            "date": "2026-01-05",
            "hours": "2.5",
            "rate": "40.00",
            "tax_rate": "20",
            "description": "Extra bracket",
        },
        follow=True,
    )
    page = _page(response)
    assert "Time recorded" in page
    assert "Extra bracket" in page and "Next invoice" in page
    assert 'id="order-deposit-form"' not in page  # deposits are finance's
    entry = TimeEntry.objects.get()
    assert entry.net_amount == Decimal("100.00")


def test_sales_sees_no_billing_forms_and_cannot_record_time(client, sales, order_at):
    order = order_at("in_progress")
    client.force_login(sales)
    page = _page(client.get(reverse("orders:detail", args=[order.number])))
    assert 'id="order-time-form"' not in page
    assert 'id="order-deposit-form"' not in page
    response = client.post(
        reverse("invoicing:time_entry", args=[order.number]),
        {"person": "S", "date": "2026-01-05", "hours": "1", "rate": "1", "description": "x"},
    )
    assert response.status_code == 403
    assert not TimeEntry.objects.exists()


# --- draft lines in place ---------------------------------------------------------------


def _line_data(prefix: str, **values) -> dict:
    data = {"description": "Widget", "quantity": "2", "unit_price": "50.00", "tax_rate": "20"}
    data.update(values)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def test_edit_one_line_in_place(client, finance, draft):
    line = draft.lines.get()
    client.force_login(finance)
    url = reverse("invoicing:line_edit", args=[draft.pk, line.pk])
    form = client.get(url, **HTMX)
    assert form.status_code == 200
    assert _page(form).strip().startswith(f'<tr id="invoice-line-{line.pk}" class="editing">')
    response = client.post(url, _line_data(f"line-{line.pk}", unit_price="60.00"), **HTMX)
    assert response.status_code == 200
    assert "invoice-changed" in response.headers["HX-Trigger"]
    assert _page(response).strip().startswith('<section id="invoice-lines"')
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("144.00")
    event = TimelineEvent.objects.filter(order=draft.order).latest("id")
    assert "changed to “Widget 2 at 60.00”" in event.message
    summary = client.get(
        reverse("invoicing:detail", args=[draft.pk]) + "?partial=invoice-summary", **HTMX
    )
    assert _page(summary).strip().startswith('<section id="invoice-summary"')
    assert "GBP 144.00" in _page(summary)


def test_cancel_puts_the_row_back(client, finance, draft):
    line = draft.lines.get()
    client.force_login(finance)
    response = client.get(reverse("invoicing:line_row", args=[draft.pk, line.pk]), **HTMX)
    assert _page(response).strip().startswith(f'<tr id="invoice-line-{line.pk}">')


def test_bad_line_edit_is_refused_with_a_message_and_nothing_changes(client, finance, draft):
    line = draft.lines.get()
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:line_edit", args=[draft.pk, line.pk]),
        _line_data(f"line-{line.pk}", unit_price="lots"),
        **HTMX,
    )
    assert response.status_code == 400
    assert "Unit price: Enter a number." in _page(response)
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("120.00")


def test_add_and_remove_lines(client, finance, draft):
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:line_add", args=[draft.pk]),
        _line_data("new", description="Call-out", quantity="1", unit_price="30.00"),
        **HTMX,
    )
    assert response.status_code == 200
    assert "Call-out" in _page(response)
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("156.00")
    first = draft.lines.order_by("position").first()
    client.post(reverse("invoicing:line_remove", args=[draft.pk, first.pk]), **HTMX)
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("36.00")
    last = draft.lines.get()
    response = client.post(reverse("invoicing:line_remove", args=[draft.pk, last.pk]), **HTMX)
    assert response.status_code == 400
    assert "at least one line" in _page(response)
    assert draft.lines.count() == 1
    messages = list(
        TimelineEvent.objects.filter(order=draft.order).values_list("message", flat=True)
    )
    assert any("“Call-out” added" in m for m in messages)
    assert any("“Widget” removed" in m for m in messages)


def test_line_edits_without_javascript_redirect_to_the_invoice(client, finance, draft):
    line = draft.lines.get()
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:line_edit", args=[draft.pk, line.pk]),
        _line_data(f"line-{line.pk}", quantity="3"),
        follow=True,
    )
    assert "Line saved." in _page(response)
    draft.refresh_from_db()
    assert draft.gross_total == Decimal("180.00")


def test_issued_invoice_lines_cannot_be_edited(client, finance, issued):
    line = issued.lines.first()
    client.force_login(finance)
    response = client.post(
        reverse("invoicing:line_edit", args=[issued.pk, line.pk]),
        _line_data(f"line-{line.pk}", unit_price="1.00"),
        **HTMX,
    )
    assert response.status_code == 400
    assert "correct it with a credit note" in _page(response)
    issued.refresh_from_db()
    assert issued.gross_total == Decimal("120.00")


def test_credit_balance_of_one_customer_is_not_shown_for_another(client, finance, issued):
    other = CustomerFactory()
    services.receive_payment(
        other, by=finance, amount=Decimal("99.00"), currency="GBP", allocations={}
    )
    client.force_login(finance)
    page = _page(client.get(reverse("invoicing:detail", args=[issued.pk])))
    assert "99.00" not in page


def test_customer_list_links_finance_to_billing(client, finance, sales, issued):
    url = reverse("invoicing:customer_billing", args=[issued.customer_id])
    client.force_login(finance)
    assert url in _page(client.get(reverse("customers:list")))
    client.force_login(sales)
    assert url not in _page(client.get(reverse("customers:list")))
