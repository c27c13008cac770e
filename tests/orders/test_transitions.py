"""The order state machine: every allowed transition works, every other one is refused with
a sentence naming the current state and the allowed next steps, and nothing is written."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from oms.outbox.models import OutboxEvent
from orders.models import ORDER_STATES, Order, OrderLine, TimelineEvent
from orders.services import TRANSITION_EVENTS, OrderChanged, transition_order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

# (transition, from, to) exactly as the lifecycle table states them.
ALLOWED = [
    ("send_quote", "enquiry", "quoted"),
    ("send_quote", "quoted", "quoted"),
    ("confirm", "enquiry", "confirmed"),
    ("confirm", "quoted", "confirmed"),
    ("lose", "enquiry", "lost"),
    ("lose", "quoted", "lost"),
    ("reopen", "lost", "enquiry"),
    ("start_work", "confirmed", "in_progress"),
    ("hold", "confirmed", "on_hold"),
    ("hold", "in_progress", "on_hold"),
    ("resume", "on_hold", "confirmed"),  # held from confirmed
    ("deliver", "in_progress", "delivered"),
    ("rework", "delivered", "in_progress"),
    ("mark_invoiced", "delivered", "invoiced"),
    ("mark_paid", "invoiced", "paid"),
    ("reopen_billing", "invoiced", "delivered"),
    ("cancel", "confirmed", "cancelled"),
    ("cancel", "in_progress", "cancelled"),
    ("cancel", "on_hold", "cancelled"),
]
ALLOWED_PAIRS = {(name, source) for name, source, _ in ALLOWED}
FORBIDDEN = [
    (name, state)
    for name in TRANSITION_EVENTS
    for state in ORDER_STATES
    if (name, state) not in ALLOWED_PAIRS
]
NEEDS_REASON = {"lose", "hold", "rework", "cancel"}


def order_in(state: str, owner, **fields) -> Order:
    """A row placed straight into `state` (matrix tests only), with one line."""
    order = OrderFactory(status=state, owner=owner, gross_total=Decimal("120.00"), **fields)
    OrderLine.objects.create(
        order=order,
        description="Widget",
        quantity=Decimal("1"),
        unit_price=Decimal("100.00"),
        net_amount=Decimal("100.00"),
        tax_amount=Decimal("20.00"),
    )
    return order


def run(order: Order, name: str, by) -> Order:
    reason = "Because the customer asked" if name in NEEDS_REASON else ""
    return transition_order(order, name, by=by, reason=reason)


def written(order: Order) -> tuple[int, int]:
    return (
        TimelineEvent.objects.filter(order=order).count(),
        OutboxEvent.objects.filter(order_id=order.pk).count(),
    )


@pytest.mark.parametrize(("name", "source", "target"), ALLOWED)
def test_allowed_transition_moves_records_and_publishes(manager, name, source, target):
    held_from = "confirmed" if source == "on_hold" else ""
    order = order_in(source, manager, held_from=held_from)
    order = run(order, name, manager)
    order.refresh_from_db()
    assert order.status == target
    event = TimelineEvent.objects.get(order=order)
    assert (event.kind, event.from_state, event.to_state) == ("transition", source, target)
    assert event.actor == manager
    published = OutboxEvent.objects.get(order_id=order.pk)
    assert published.kind == TRANSITION_EVENTS[name]
    assert published.payload["from_state"] == source
    assert published.payload["to_state"] == target


def test_resume_returns_to_in_progress_when_held_from_there(manager):
    order = order_in("on_hold", manager, held_from="in_progress", hold_reason="Parts")
    order = run(order, "resume", manager)
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    assert (order.held_from, order.hold_reason) == ("", "")


@pytest.mark.parametrize(("name", "state"), FORBIDDEN)
def test_forbidden_transition_is_refused_and_writes_nothing(manager, name, state):
    order = order_in(state, manager, held_from="confirmed" if state == "on_hold" else "")
    with pytest.raises(ValidationError) as refused:
        run(order, name, manager)
    message = refused.value.messages[0]
    assert Order.Status(state).label.lower() in message
    assert "Allowed next steps" in message
    order.refresh_from_db()
    assert order.status == state
    assert written(order) == (0, 0)


@pytest.mark.parametrize(
    ("name", "state", "expected_steps"),
    [
        ("mark_invoiced", "quoted", "Send quote, Confirm order, Mark lost"),
        ("mark_paid", "enquiry", "Send quote, Confirm order, Mark lost"),
        ("confirm", "lost", "Reopen"),
        ("reopen", "cancelled", "none, the order is closed"),
        ("start_work", "paid", "none, the order is closed"),
    ],
)
def test_listed_forbidden_moves_name_the_allowed_steps(manager, name, state, expected_steps):
    order = order_in(state, manager)
    with pytest.raises(ValidationError) as refused:
        run(order, name, manager)
    assert refused.value.messages[0].endswith(f"Allowed next steps: {expected_steps}.")


def test_nothing_leaves_cancelled_or_paid(manager):
    for state in ("cancelled", "paid"):
        order = order_in(state, manager)
        assert list(order.get_available_status_transitions()) == []


@pytest.mark.parametrize("name", sorted(NEEDS_REASON))
def test_transitions_needing_a_reason_refuse_without_one(manager, name):
    source = next(source for n, source, _ in ALLOWED if n == name)
    order = order_in(source, manager)
    with pytest.raises(ValidationError, match="reason"):
        transition_order(order, name, by=manager, reason="   ")
    order.refresh_from_db()
    assert order.status == source
    assert written(order) == (0, 0)


def test_reason_is_kept_on_the_order_and_the_timeline(manager):
    order = run(order_in("quoted", manager), "lose", manager)
    order.refresh_from_db()
    assert order.closed_reason == "Because the customer asked"
    assert order.timeline.get().message == "Because the customer asked"


def test_entering_a_state_stamps_its_time(manager):
    order = run(order_in("enquiry", manager), "confirm", manager)
    order.refresh_from_db()
    assert order.confirmed_at is not None
    assert order.status_changed_at == order.confirmed_at


def test_stale_copy_gets_order_changed_and_writes_nothing(manager):
    order = order_in("enquiry", manager)
    stale = Order.objects.get(pk=order.pk)
    run(order, "confirm", manager)
    with pytest.raises(OrderChanged, match="Reload"):
        run(stale, "lose", manager)
    assert written(order) == (1, 1)


def test_automation_acts_without_a_user(manager):
    order = transition_order(
        order_in("delivered", manager), "mark_invoiced", by=None, automation="invoicing"
    )
    event = order.timeline.get()
    assert event.actor is None
    assert event.automation == "invoicing"


def test_the_state_field_cannot_be_assigned(manager):
    order = order_in("enquiry", manager)
    with pytest.raises(AttributeError):
        order.status = "paid"


def test_database_refuses_an_unknown_state(manager):
    from django.db import IntegrityError, connection, transaction

    order = order_in("enquiry", manager)
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE orders_order SET status = 'shipped' WHERE id = %s", [order.pk])


def test_unknown_transition_name_is_a_programming_error(manager):
    with pytest.raises(ValueError, match="Unknown"):
        transition_order(order_in("enquiry", manager), "teleport", by=manager)


def test_permission_refusal_writes_nothing(operations, manager):
    order = order_in("enquiry", manager)
    with pytest.raises(PermissionDenied):
        run(order, "confirm", operations)
    assert written(order) == (0, 0)
