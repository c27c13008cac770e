"""Two people acting on the same order at once, with real threads on PostgreSQL: exactly one
succeeds, the other is told the order changed (or refused), and only the winner's timeline
row and outbox event exist."""

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection

from oms.accounts.roles import Role
from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from orders.services import OrderChanged, confirm_order, lose_order, set_order_lines
from quotes.services import accept_quote, decline_quote
from tests.factories import line_data, place_order, send_new_quote

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """Transactional tests empty every table afterwards, the role groups included."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Start every call at the same moment, each in its own thread and connection; return
    what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # the outcome under test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def transitions_from(order: Order, state: str) -> int:
    return TimelineEvent.objects.filter(order=order, kind="transition", from_state=state).count()


@pytest.mark.parametrize("attempt", range(5))
def test_confirm_and_lose_at_once_one_wins(sales, other_sales, manager, attempt):
    order = place_order(sales)
    # Each person opened the order page before either acted: both hold the enquiry.
    first, second = Order.objects.get(pk=order.pk), Order.objects.get(pk=order.pk)
    results = race(
        [
            lambda: confirm_order(first, by=sales),
            lambda: lose_order(second, by=manager, reason="Customer went quiet"),
        ]
    )
    winners = [r for r in results if isinstance(r, Order)]
    losers = [r for r in results if not isinstance(r, Order)]
    assert len(winners) == 1, results
    assert isinstance(losers[0], OrderChanged | ValidationError), results
    order.refresh_from_db()
    assert order.status == winners[0].status
    assert transitions_from(order, "enquiry") == 1
    published = OutboxEvent.objects.filter(
        order_id=order.pk, kind__in=["order.confirmed", "order.lost"]
    )
    assert published.count() == 1
    assert published.get().kind == f"order.{'confirmed' if order.status == 'confirmed' else 'lost'}"


def test_two_people_confirming_at_once_confirm_once(sales, manager):
    order = place_order(sales)
    copies = [Order.objects.get(pk=order.pk) for _ in range(2)]
    results = race(
        [lambda: confirm_order(copies[0], by=sales), lambda: confirm_order(copies[1], by=manager)]
    )
    assert sum(isinstance(r, Order) for r in results) == 1, results
    assert sum(isinstance(r, OrderChanged | ValidationError) for r in results) == 1
    assert OutboxEvent.objects.filter(order_id=order.pk, kind="order.confirmed").count() == 1
    assert transitions_from(order, "enquiry") == 1


def test_accept_and_decline_the_same_quote_at_once_one_wins(sales, manager):
    order = place_order(sales)
    quote = send_new_quote(order, sales)
    results = race(
        [
            lambda: accept_quote(quote, name="Jane Buyer", po="PO-1"),
            lambda: decline_quote(quote, by=manager, reason="Too dear"),
        ]
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    order.refresh_from_db()
    assert order.status in (Order.Status.CONFIRMED, Order.Status.LOST)
    assert transitions_from(order, "quoted") == 1
    assert OutboxEvent.objects.filter(kind__in=["quote.accepted", "quote.declined"]).count() == 1


def test_lines_edit_racing_a_confirmation_never_changes_a_confirmed_order(sales, manager):
    order = place_order(sales)
    copies = [Order.objects.get(pk=order.pk) for _ in range(2)]
    race(
        [
            lambda: confirm_order(copies[0], by=sales),
            lambda: set_order_lines(copies[1], [line_data(quantity=5)], by=manager),
        ]
    )
    order.refresh_from_db()
    if order.lines.get().quantity == 5:
        # The edit went first: the confirmation then saw a moved order or went through on
        # the new lines; either way the total matches the lines.
        assert order.gross_total == 5 * 60
    else:
        assert order.status == Order.Status.CONFIRMED
        assert order.gross_total == 120
