"""Pipeline and order-page queries against hand-computed values on a small fixed data set."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from orders import queries
from tests.factories import (
    CustomerFactory,
    advance_order,
    line_data,
    place_order,
    send_new_quote,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=LONDON)
NOW = T0 + timedelta(days=14, hours=2)


def _at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def dataset(sales, manager, finance, settings):
    """A: enquiry since T0 (120.00). B: quoted since T0 (120.00). C: quoted since T0+10d
    (300.00). D: delivered T0+11d. E: delivered T0+13d. F: invoiced at T0, due at once."""
    from invoicing.services import approve_invoice, draft_invoice_for_order

    settings.PIPELINE_STALL_DAYS = {**settings.PIPELINE_STALL_DAYS, "invoiced": 10}
    big = [line_data(quantity=Decimal("1"), unit_price=Decimal("250.00"))]
    orders = {}
    with _at(T0):
        orders["A"] = place_order(sales, title="A")
        orders["B"] = send_new_quote(place_order(sales, title="B"), sales).order
        cash_customer = CustomerFactory(payment_terms_days=0)
        f = advance_order(
            place_order(sales, title="F", customer=cash_customer), "delivered", by=manager
        )
        approve_invoice(draft_invoice_for_order(f, by=finance), by=finance)
        orders["F"] = f
    with _at(T0 + timedelta(days=10)):
        orders["C"] = send_new_quote(place_order(sales, title="C", lines=big), sales).order
    with _at(T0 + timedelta(days=11)):
        orders["D"] = advance_order(place_order(sales, title="D"), "delivered", by=manager)
    with _at(T0 + timedelta(days=13)):
        orders["E"] = advance_order(place_order(sales, title="E"), "delivered", by=manager)
    return orders


def _by_stage(summary):
    return {row["status"]: row for row in summary}


def test_pipeline_summary_counts_values_ages_and_stalls(dataset, manager):
    with _at(NOW):
        summary = _by_stage(queries.pipeline_summary(manager))
    assert [summary[s]["count"] for s in ("enquiry", "quoted", "confirmed", "delivered")] == [
        1,
        2,
        0,
        2,
    ]
    assert summary["invoiced"]["count"] == 1
    assert summary["enquiry"]["value"] == Decimal("120.00")
    assert summary["quoted"]["value"] == Decimal("420.00")
    assert summary["confirmed"]["value"] == Decimal("0.00")
    # B has waited 14d 2h, C 4d 2h: average 9d 2h, longest 14d 2h.
    assert summary["quoted"]["average_age"] == timedelta(days=9, hours=2)
    assert summary["quoted"]["longest_age"] == timedelta(days=14, hours=2)
    assert summary["confirmed"]["average_age"] is None
    stalled = {stage: row["stalled"] for stage, row in summary.items()}
    assert stalled == {
        "enquiry": 1,  # 14 days > 7
        "quoted": 1,  # B only: 14d 2h > 14 days
        "confirmed": 0,
        "in_progress": 0,
        "on_hold": 0,
        "delivered": 1,  # D: 3 days > 2; E: 1 day
        "invoiced": 1,  # due T0, 14 days overdue > 10
    }


def test_stalled_flags_name_the_orders_and_their_owner(dataset, manager, sales):
    with _at(NOW):
        stalled = list(queries.pipeline_list(manager, stalled_only=True))
    assert sorted(order.title for order in stalled) == ["A", "B", "D", "F"]
    assert {order.owner for order in stalled} == {sales}


def test_invoiced_order_is_not_stalled_before_the_overdue_threshold(dataset, manager, settings):
    settings.PIPELINE_STALL_DAYS = {**settings.PIPELINE_STALL_DAYS, "invoiced": 30}
    with _at(NOW):
        summary = _by_stage(queries.pipeline_summary(manager))
    assert summary["invoiced"]["stalled"] == 0


def test_order_just_inside_the_threshold_is_not_stalled(sales, manager):
    with _at(T0):
        send_new_quote(place_order(sales), sales)
    with _at(T0 + timedelta(days=14) - timedelta(minutes=1)):
        assert _by_stage(queries.pipeline_summary(manager))["quoted"]["stalled"] == 0
    with _at(T0 + timedelta(days=14, minutes=1)):
        assert _by_stage(queries.pipeline_summary(manager))["quoted"]["stalled"] == 1


def test_pipeline_with_no_orders_is_all_zero(manager):
    summary = queries.pipeline_summary(manager)
    assert [row["status"] for row in summary] == list(queries.PIPELINE_STAGES)
    assert all(row["count"] == 0 and row["value"] == Decimal("0.00") for row in summary)
    assert all(row["stalled"] == 0 and row["longest_age"] is None for row in summary)


def test_pipeline_with_a_single_order(sales, manager):
    with _at(T0):
        place_order(sales)
    with _at(T0 + timedelta(days=1)):
        row = _by_stage(queries.pipeline_summary(manager))["enquiry"]
    assert (row["count"], row["value"], row["stalled"]) == (1, Decimal("120.00"), 0)
    assert row["average_age"] == row["longest_age"] == timedelta(days=1)


def test_closed_orders_are_not_in_the_pipeline(sales, manager):
    advance_order(place_order(sales), "lost", by=manager)
    advance_order(place_order(sales), "cancelled", by=manager)
    assert sum(row["count"] for row in queries.pipeline_summary(manager)) == 0


def test_board_keeps_the_longest_waiting_per_stage(dataset, manager):
    with _at(NOW):
        board = queries.pipeline_board(manager, per_stage=1)
    assert [order.title for order in board["quoted"]] == ["B"]
    assert [order.title for order in board["delivered"]] == ["D"]
    assert board["confirmed"] == []


def test_pipeline_is_limited_to_what_the_user_may_see(dataset, other_sales):
    assert sum(row["count"] for row in queries.pipeline_summary(other_sales)) == 0


def test_stage_history_lists_when_each_stage_was_entered(sales, manager):
    with _at(T0):
        order = place_order(sales)
    with _at(T0 + timedelta(days=2)):
        order = advance_order(order, "in_progress", by=manager)
    history = queries.stage_history(order)
    assert [(h["status"], h["at"]) for h in history] == [
        ("enquiry", T0),
        ("confirmed", T0 + timedelta(days=2)),
        ("in_progress", T0 + timedelta(days=2)),
    ]


# --- the pipeline page ------------------------------------------------------------------


def test_pipeline_page_is_for_managers(client, sales, manager):
    client.force_login(sales)
    assert client.get(reverse("orders:pipeline")).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("orders:pipeline")).status_code == 200


def test_pipeline_page_board_and_list(client, dataset, manager):
    client.force_login(manager)
    with _at(NOW):
        board = client.get(reverse("orders:pipeline")).content.decode()
        listing = client.get(reverse("orders:pipeline") + "?view=list&stalled=1").content.decode()
    assert 'id="pipeline-board"' in board
    assert board.count('class="board-column"') == len(queries.PIPELINE_STAGES)
    assert dataset["B"].number in board
    assert 'id="pipeline-list"' in listing
    assert dataset["D"].number in listing
    assert dataset["E"].number not in listing  # delivered a day ago: not stalled


def _make_orders(sales, manager, n):
    customer = CustomerFactory(account_manager=sales)
    for i in range(n):
        order = place_order(sales, customer=customer, title=f"Bulk {i}")
        if i % 3 == 1:
            send_new_quote(order, sales)
        elif i % 3 == 2:
            advance_order(order, "confirmed", by=manager)


@pytest.mark.parametrize("view", ["", "?view=list"])
def test_pipeline_page_query_count_is_constant(client, sales, manager, view):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(manager)
    counts = []
    for batch in (10, 90):
        _make_orders(sales, manager, batch)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("orders:pipeline") + view).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert counts[0] <= 12  # session, user, groups; summary; board: one short query per stage
