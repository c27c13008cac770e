"""A hold really holds: while on hold an order cannot be delivered, invoiced or changed by
any path, and every refusal says it is on hold. Payments on invoices already issued still
count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from invoicing.services import (
    approve_invoice,
    create_deposit_invoice,
    create_milestone_invoice,
    draft_invoice_for_order,
    record_payment,
)
from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from orders.services import (
    deliver_order,
    hold_order,
    record_delivery,
    resume_order,
    set_order_lines,
    start_work,
    transition_order,
    update_order,
)
from tests.factories import advance_order, line_data, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(sales, manager, operations):
    order = advance_order(place_order(sales), "in_progress", by=manager)
    return hold_order(
        order,
        by=operations,
        reason="Site closed for asbestos survey",
        resume_date=timezone.localdate() + timedelta(days=7),
    )


def writes(order):
    return (
        TimelineEvent.objects.filter(order=order).count(),
        OutboxEvent.objects.filter(order_id=order.pk).count(),
    )


def test_hold_keeps_reason_resume_date_and_the_stage_held_from(held):
    held.refresh_from_db()
    assert held.status == Order.Status.ON_HOLD
    assert held.held_from == Order.Status.IN_PROGRESS
    assert held.hold_reason == "Site closed for asbestos survey"
    assert held.hold_resume_date == timezone.localdate() + timedelta(days=7)
    published = OutboxEvent.objects.filter(kind="order.held", order_id=held.pk).get()
    assert published.payload["resume_date"] == held.hold_resume_date.isoformat()


def test_hold_refuses_a_resume_date_in_the_past(sales, manager, operations):
    order = advance_order(place_order(sales), "confirmed", by=manager)
    with pytest.raises(ValidationError, match="past"):
        hold_order(
            order, by=operations, reason="x", resume_date=timezone.localdate() - timedelta(1)
        )


def test_deliver_refused_on_hold(held, operations):
    before = writes(held)
    with pytest.raises(ValidationError, match="on hold") as refused:
        deliver_order(held, by=operations)
    assert "Site closed" in refused.value.messages[0]
    assert "Resume" in refused.value.messages[0]
    assert writes(held) == before


def test_mark_invoiced_refused_on_hold(held, finance):
    with pytest.raises(ValidationError, match="on hold"):
        transition_order(held, "mark_invoiced", by=finance)


@pytest.mark.parametrize(
    "change",
    [
        lambda order, by: set_order_lines(order, [line_data()], by=by),
        lambda order, by: update_order(order, by=by, title="Changed while held"),
        lambda order, by: record_delivery(order, {order.lines.get().pk: Decimal("1")}, by=by),
        lambda order, by: start_work(order, by=by),
    ],
    ids=["lines", "details", "part-delivery", "start"],
)
def test_order_cannot_change_on_hold(held, manager, change):
    before = writes(held)
    with pytest.raises(ValidationError, match="on hold"):
        change(held, manager)
    held.refresh_from_db()
    assert held.status == Order.Status.ON_HOLD
    assert held.title == "Fit-out"
    assert writes(held) == before


@pytest.mark.parametrize(
    "invoice",
    [
        lambda order, by: create_deposit_invoice(order, by=by, percent=Decimal("30")),
        lambda order, by: create_milestone_invoice(
            order, by=by, description="Stage 1", amount=Decimal("10.00")
        ),
        lambda order, by: draft_invoice_for_order(order, by=by),
    ],
    ids=["deposit", "milestone", "final"],
)
def test_order_cannot_be_invoiced_on_hold(held, finance, invoice):
    with pytest.raises(ValidationError, match="on hold"):
        invoice(held, finance)
    assert not held.invoices.exists()


def test_payment_on_an_issued_invoice_is_recorded_while_on_hold(
    sales, manager, operations, finance
):
    order = advance_order(place_order(sales), "in_progress", by=manager)
    deposit = approve_invoice(
        create_deposit_invoice(order, by=finance, percent=Decimal("50")), by=finance
    )
    order = hold_order(order, by=operations, reason="Customer reviewing design")
    record_payment(deposit, by=finance, amount=deposit.gross_total)
    deposit.refresh_from_db()
    order.refresh_from_db()
    assert deposit.amount_paid == deposit.gross_total
    assert order.status == Order.Status.ON_HOLD
    assert order.paid_share == Decimal("0.5")


def test_resume_returns_to_the_held_stage_and_work_can_finish(held, operations):
    order = resume_order(held, by=operations)
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    assert order.hold_reason == ""
    order = deliver_order(order, by=operations, received_by="Foreman")
    assert order.status == Order.Status.DELIVERED


def test_hold_from_confirmed_resumes_to_confirmed(sales, manager, operations):
    order = advance_order(place_order(sales), "confirmed", by=manager)
    order = hold_order(order, by=operations, reason="Awaiting drawings")
    order = resume_order(order, by=operations)
    assert order.status == Order.Status.CONFIRMED
