"""The draft review queue and the overdue list come fifty rows a page, sorted in SQL, with
totals over the whole queue and a currency filter that survives paging."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoicing import queries, services
from invoicing.models import Invoice
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = date.today()


def _drafts(order_at, finance, count, **fields):
    return [
        services.draft_invoice_for_order(order_at("delivered", **fields), by=finance)
        for _ in range(count)
    ]


def _overdue(order_at, finance, count, *, days_late=10, **fields):
    # Terms default to 30 days: issued 30+N days ago means N days overdue.
    with time_machine.travel(TODAY - timedelta(days=30 + days_late), tick=False):
        return [
            services.approve_invoice(
                services.draft_invoice_for_order(order_at("delivered", **fields), by=finance),
                by=finance,
            )
            for _ in range(count)
        ]


def _rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(rb'data-invoice="(\d+)"', response.content)]


def _queries_for(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


# --- draft review ---------------------------------------------------------------------------


def test_draft_queue_pages_fifty_rows_in_delivery_order(client, finance, order_at):
    drafts = _drafts(order_at, finance, 62)
    client.force_login(finance)
    first = client.get(reverse("invoicing:drafts"))
    second = client.get(reverse("invoicing:drafts"), {"page": 2})
    expected = [i.pk for i in queries.draft_review_queue(finance)]
    assert _rows(first) == expected[:50]
    assert _rows(second) == expected[50:]
    assert sorted(_rows(first) + _rows(second)) == sorted(d.pk for d in drafts)
    assert b"Page 1 of 2" in first.content and b"62 in all" in first.content
    assert b'href="?page=2"' in first.content


def test_draft_queue_totals_cover_the_whole_queue(client, finance, order_at):
    _drafts(order_at, finance, 55)
    client.force_login(finance)
    page = client.get(reverse("invoicing:drafts"), {"page": 2}).content.decode()
    # 55 drafts of 120.00 each, though page 2 shows only five of them.
    assert "GBP 6600.00" in page
    assert "55 drafts" in page
    assert queries.draft_review_totals(finance) == [
        queries.QueueTotal("GBP", 55, Decimal("6600.00"))
    ]


def test_draft_queue_currency_filter_survives_paging(client, finance, order_at):
    euros = _drafts(order_at, finance, 52, customer=CustomerFactory(currency="EUR"))
    _drafts(order_at, finance, 3)
    client.force_login(finance)
    first = client.get(reverse("invoicing:drafts"), {"currency": "EUR"})
    assert b'href="?currency=EUR&amp;page=2"' in first.content
    second = client.get(reverse("invoicing:drafts"), {"currency": "EUR", "page": 2})
    assert sorted(_rows(first) + _rows(second)) == sorted(i.pk for i in euros)
    assert len(_rows(second)) == 2
    # The totals still show every currency, so finance can switch between them.
    assert b'data-total="GBP"' in second.content and b'data-total="EUR"' in second.content


def test_draft_queue_htmx_page_swaps_only_the_table(client, finance, order_at):
    _drafts(order_at, finance, 51)
    client.force_login(finance)
    response = client.get(reverse("invoicing:drafts"), {"page": 2}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.strip().startswith('<section id="drafts-table"')
    assert len(_rows(response)) == 1
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_draft_queue_query_count_is_the_same_for_10_and_120_rows(client, finance, order_at):
    client.force_login(finance)
    _drafts(order_at, finance, 10)
    small = _queries_for(client, reverse("invoicing:drafts"))
    _drafts(order_at, finance, 110)
    large = _queries_for(client, reverse("invoicing:drafts"))
    assert small == large
    assert _queries_for(client, reverse("invoicing:drafts"), {"page": 3}) == large


def test_draft_queue_out_of_range_page_shows_the_last(client, finance, order_at):
    _drafts(order_at, finance, 3)
    client.force_login(finance)
    response = client.get(reverse("invoicing:drafts"), {"page": "99"})
    assert response.status_code == 200 and len(_rows(response)) == 3
    response = client.get(reverse("invoicing:drafts"), {"page": "x", "currency": "<b>"})
    assert response.status_code == 200 and len(_rows(response)) == 3


# --- overdue ---------------------------------------------------------------------------------


def test_overdue_pages_fifty_rows_earliest_due_first(client, finance, order_at):
    later = _overdue(order_at, finance, 30, days_late=5)
    earlier = _overdue(order_at, finance, 31, days_late=40)
    client.force_login(finance)
    first = client.get(reverse("invoicing:overdue"))
    second = client.get(reverse("invoicing:overdue"), {"page": 2})
    assert _rows(first)[:31] == sorted(i.pk for i in earlier)
    assert len(_rows(first)) == 50 and len(_rows(second)) == 11
    assert sorted(_rows(first) + _rows(second)) == sorted(i.pk for i in earlier + later)
    assert b"61 in all" in first.content


def test_overdue_totals_cover_the_whole_list_and_what_is_still_owed(client, finance, order_at):
    invoices = _overdue(order_at, finance, 60)
    services.record_payment(invoices[0], by=finance, amount=Decimal("20.00"))
    _overdue(order_at, finance, 1, days_late=-5)  # not yet due
    client.force_login(finance)
    page = client.get(reverse("invoicing:overdue"), {"page": 2}).content.decode()
    # 60 times 120.00 less the 20.00 paid, although page 2 shows ten rows.
    assert "GBP 7180.00" in page
    assert "60 overdue invoices" in page


def test_overdue_currency_filter_survives_paging(client, finance, order_at):
    euros = _overdue(order_at, finance, 51, customer=CustomerFactory(currency="EUR"))
    _overdue(order_at, finance, 2)
    client.force_login(finance)
    first = client.get(reverse("invoicing:overdue"), {"currency": "EUR"})
    assert b'href="?currency=EUR&amp;page=2"' in first.content
    second = client.get(reverse("invoicing:overdue"), {"currency": "EUR", "page": 2})
    assert sorted(_rows(first) + _rows(second)) == sorted(i.pk for i in euros)
    htmx = client.get(
        reverse("invoicing:overdue"),
        {"currency": "EUR", "page": 2},
        headers={"HX-Request": "true"},
    )
    assert htmx.content.decode().strip().startswith('<section id="overdue-table"')
    assert _rows(htmx) == _rows(second)


def test_overdue_query_count_is_the_same_for_10_and_120_rows(client, finance, order_at):
    client.force_login(finance)
    _overdue(order_at, finance, 10)
    small = _queries_for(client, reverse("invoicing:overdue"))
    _overdue(order_at, finance, 110)
    large = _queries_for(client, reverse("invoicing:overdue"))
    assert small == large
    assert _queries_for(client, reverse("invoicing:overdue"), {"page": 3}) == large


def test_overdue_filter_names_receivable_states_positively(order_at, finance):
    late = _overdue(order_at, finance, 1)[0]
    sql = str(queries.overdue_invoices(TODAY).query).upper()
    assert not re.search(r'NOT \(*"INVOICING_INVOICE"\."(STATUS|KIND)"', sql)
    assert '"INVOICING_INVOICE"."STATUS" IN (APPROVED, SENT, PART_PAID)' in sql
    assert [i.pk for i in queries.overdue_invoices(TODAY)] == [late.pk]
    assert set(queries.RECEIVABLE_STATES) == {
        Invoice.Status.APPROVED,
        Invoice.Status.SENT,
        Invoice.Status.PART_PAID,
    }
