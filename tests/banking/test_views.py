"""The Bank pages: upload, review each line, confirm; only finance."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoicing import services as invoicing
from invoicing.banking import services
from invoicing.banking.models import BankLine, BankStatement
from invoicing.models import Invoice, Payment

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def issued(order_at, finance):
    order = order_at("delivered")
    return invoicing.approve_invoice(
        invoicing.draft_invoice_for_order(order, by=finance), by=finance
    )


def _upload(client, text: bytes, name="statement.csv"):
    return client.post(
        reverse("banking:upload"),
        {"file": SimpleUploadedFile(name, text, content_type="text/csv"), "currency": "GBP"},
    )


def test_upload_review_and_confirm(client, finance, issued):
    client.force_login(finance)
    response = _upload(
        client, f"Date,Amount,Reference\n2026-01-05,120.00,{issued.number}\n".encode()
    )
    statement = BankStatement.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("banking:statement", args=[statement.pk])
    page = client.get(response.url).content.decode()
    assert issued.number in page and "Match proposed" in page
    assert not Payment.objects.exists()
    line = statement.lines.get()
    response = client.post(reverse("banking:line_confirm", args=[line.pk]), **HTMX)
    assert response.status_code == 200
    assert response.content.decode().strip().startswith(f'<tbody id="bank-line-{line.pk}"')
    assert "payment recorded" in response.content.decode()
    assert "bank-line-changed" in response.headers["HX-Trigger"]
    progress = client.get(
        reverse("banking:statement", args=[statement.pk]) + "?partial=statement-progress", **HTMX
    )
    assert progress.content.decode().strip().startswith('<p id="statement-progress"')
    assert "0 lines waiting" in progress.content.decode()
    issued.refresh_from_db()
    assert issued.status == Invoice.Status.PAID
    again = client.post(reverse("banking:line_confirm", args=[line.pk]), **HTMX)
    assert again.status_code == 400
    assert Payment.objects.count() == 1


def test_malformed_upload_names_the_row_and_stores_nothing(client, finance):
    client.force_login(finance)
    response = _upload(client, b"Date,Amount,Reference\n2026-01-05,abc,X\n")
    assert response.status_code == 400
    assert "Row 2: amount “abc” is not a number." in response.content.decode()
    assert not BankStatement.objects.exists()


def test_same_file_twice_is_refused_in_the_page(client, finance):
    client.force_login(finance)
    content = b"Date,Amount,Reference\n2026-01-05,5.00,X\n"
    _upload(client, content)
    response = _upload(client, content, name="copy.csv")
    assert response.status_code == 400
    assert "already imported" in response.content.decode()
    assert BankStatement.objects.count() == 1


def test_unmatched_lines_stay_visible_until_ignored_with_a_reason(client, finance):
    client.force_login(finance)
    _upload(client, b"Date,Amount,Reference\n2026-01-05,5.00,Mystery\n")
    statement = BankStatement.objects.get()
    line = statement.lines.get()
    url = reverse("banking:statement", args=[statement.pk])
    assert "1 line waiting" in client.get(url).content.decode()
    response = client.post(
        reverse("banking:line_ignore", args=[line.pk]), {"reason": ""}, follow=True
    )
    assert "Say why this line is ignored." in response.content.decode()
    client.post(reverse("banking:line_ignore", args=[line.pk]), {"reason": "Bank interest"})
    page = client.get(url).content.decode()
    assert "0 lines waiting" in page
    assert "Ignored: Bank interest" in page


def test_change_match_by_invoice_number_then_confirm(client, finance, issued):
    client.force_login(finance)
    _upload(client, b"Date,Amount,Reference\n2026-01-05,50.00,Part payment\n")
    line = BankLine.objects.get()
    client.post(reverse("banking:line_change", args=[line.pk]), {"invoice_numbers": issued.number})
    line.refresh_from_db()
    assert line.status == BankLine.Status.PROPOSED
    client.post(reverse("banking:line_confirm", args=[line.pk]))
    issued.refresh_from_db()
    assert issued.amount_paid == Decimal("50.00")


def test_sales_cannot_open_or_upload(client, sales):
    client.force_login(sales)
    assert client.get(reverse("banking:statements")).status_code == 403
    response = _upload(client, b"Date,Amount,Reference\n2026-01-05,5.00,X\n")
    assert response.status_code == 403
    assert not BankStatement.objects.exists()


def test_bank_is_in_finance_menu(client, finance):
    client.force_login(finance)
    page = client.get(reverse("banking:statements")).content.decode()
    assert f'href="{reverse("banking:statements")}"' in page
    assert ">Bank<" in page


@pytest.mark.parametrize("rows", [10, 100])
def test_statement_page_pins_queries(client, finance, rows, django_assert_max_num_queries):
    body = "".join(f"2026-01-05,{n}.00,Payment {n}\n" for n in range(1, rows + 1))
    statement = services.import_statement(
        by=finance,
        filename="s.csv",
        content=f"Date,Amount,Reference\n{body}".encode(),
        currency="GBP",
    )
    client.force_login(finance)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("banking:statement", args=[statement.pk]))
    assert response.content.count(b'class="bank-line"') == rows
    with django_assert_max_num_queries(10):
        client.get(reverse("banking:statements"))
