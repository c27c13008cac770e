"""Order services: lines, totals, details, deliveries, notes and the catalogue."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from oms.outbox.models import OutboxEvent
from orders.models import Order, OrderLine, TimelineEvent
from orders.services import (
    add_note,
    archive_product,
    deliver_order,
    record_delivery,
    restore_product,
    set_order_lines,
    update_order,
)
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    advance_order,
    line_data,
    place_order,
)

pytestmark = pytest.mark.django_db


def test_create_enquiry_numbers_the_order_and_records_it(sales):
    order = place_order(sales, lines=[])
    assert order.number.startswith("ORD-")
    assert order.status == Order.Status.ENQUIRY
    assert order.owner == sales
    assert order.timeline.filter(kind="transition", to_state="enquiry").count() == 1
    assert OutboxEvent.objects.filter(kind="order.created", order_id=order.pk).count() == 1


def test_order_numbers_follow_on_without_gaps(sales):
    first = place_order(sales)
    second = place_order(sales)
    assert int(second.number.rsplit("-", 1)[1]) == int(first.number.rsplit("-", 1)[1]) + 1


def test_set_order_lines_replaces_lines_and_computes_totals_per_line(sales):
    order = place_order(sales)
    order = set_order_lines(
        order,
        [
            line_data(description="A", quantity=Decimal("3"), unit_price=Decimal("0.35")),
            line_data(
                description="B",
                quantity=Decimal("1"),
                unit_price=Decimal("10.05"),
                discount_percent=Decimal("10"),
                tax_rate=Decimal("5"),
            ),
        ],
        by=sales,
    )
    a, b = order.lines.all()
    assert (a.net_amount, a.tax_amount) == (Decimal("1.05"), Decimal("0.21"))
    # 10.05 less 10% is 9.045, half up to 9.05; 5% tax of 9.05 is 0.4525 -> 0.45
    assert (b.net_amount, b.tax_amount) == (Decimal("9.05"), Decimal("0.45"))
    assert order.net_total == Decimal("10.10")
    assert order.tax_total == Decimal("0.66")
    assert order.gross_total == Decimal("10.76")
    assert OrderLine.objects.filter(order=order).count() == 2
    change = order.timeline.filter(kind="change").last()
    assert change.details["gross_total"] == "10.76"
    assert len(change.details["previous_lines"]) == 1


def test_set_order_lines_fills_in_from_the_product(sales):
    product = ProductFactory(name="Pump", unit="box", unit_price=Decimal("12.50"))
    order = place_order(sales, lines=[{"product": product, "quantity": Decimal("2")}])
    line = order.lines.get()
    assert (line.description, line.unit, line.unit_price) == ("Pump", "box", Decimal("12.50"))
    assert order.gross_total == Decimal("30.00")


def test_set_order_lines_refuses_an_archived_product(sales, manager):
    product = archive_product(ProductFactory(), by=manager)
    with pytest.raises(ValidationError, match="archived"):
        place_order(sales, lines=[{"product": product, "quantity": 1}])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"quantity": Decimal("0")}, "more than zero"),
        ({"unit_price": Decimal("-1")}, "negative"),
        ({"discount_percent": Decimal("120")}, "between 0 and 100"),
        ({"description": ""}, "description"),
        ({"quantity": "lots"}, "not a valid quantity"),
    ],
)
def test_set_order_lines_refuses_invalid_lines_and_keeps_the_old(sales, bad, message):
    order = place_order(sales)
    with pytest.raises(ValidationError, match=message):
        set_order_lines(order, [line_data(**bad)], by=sales)
    order.refresh_from_db()
    assert order.lines.count() == 1
    assert order.gross_total == Decimal("120.00")


@pytest.mark.parametrize("state", ["confirmed", "in_progress", "on_hold", "delivered", "lost"])
def test_set_order_lines_refused_once_committed(sales, manager, state):
    order = advance_order(place_order(sales), state, by=manager)
    events = TimelineEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        set_order_lines(order, [line_data(quantity=Decimal("9"))], by=manager)
    if state == "on_hold":
        assert "on hold" in str(refused.value)
    assert TimelineEvent.objects.count() == events
    assert order.lines.get().quantity == Decimal("2")


def test_set_order_lines_refused_for_operations(sales, operations):
    order = place_order(sales)
    with pytest.raises(PermissionDenied):
        set_order_lines(order, [line_data()], by=operations)


def test_update_order_records_old_and_new_values(sales, operations):
    order = place_order(sales)
    order = update_order(
        order, by=sales, title="New title", po_reference="PO-7", assignee=operations
    )
    order.refresh_from_db()
    assert (order.title, order.po_reference, order.assignee) == ("New title", "PO-7", operations)
    change = order.timeline.filter(kind="change").last()
    assert change.details["changes"]["title"] == ["Fit-out", "New title"]
    assert OutboxEvent.objects.filter(kind="order.changed", order_id=order.pk).exists()


def test_update_order_refused_on_hold_with_a_hold_message(sales, manager):
    order = advance_order(place_order(sales), "on_hold", by=manager)
    with pytest.raises(ValidationError, match="on hold"):
        update_order(order, by=manager, title="Sneaky")
    order.refresh_from_db()
    assert order.title == "Fit-out"


def test_update_order_refuses_the_state_field(sales):
    order = place_order(sales)
    with pytest.raises(ValueError, match="status"):
        update_order(order, by=sales, status="paid")


def test_deliver_records_proof_and_marks_every_line_delivered(sales, manager, operations):
    order = advance_order(place_order(sales), "in_progress", by=manager)
    order = deliver_order(order, by=operations, proof="Signed POD 4411", received_by="J Smith")
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert (order.delivery_proof, order.delivered_to) == ("Signed POD 4411", "J Smith")
    assert order.delivered_share == Decimal("1")
    event = order.timeline.get(to_state="delivered")
    assert event.details["proof"] == "Signed POD 4411"
    assert "J Smith" in event.message


def test_record_delivery_sets_the_delivered_share(sales, manager, operations):
    order = place_order(
        sales, lines=[line_data(quantity=Decimal("4")), line_data(quantity=Decimal("6"))]
    )
    order = advance_order(order, "in_progress", by=manager)
    first, second = order.lines.all()
    record_delivery(order, {first.pk: Decimal("4"), second.pk: Decimal("1")}, by=operations)
    order.refresh_from_db()
    assert order.delivered_share == Decimal("0.5")
    assert order.progress["delivered"] == 50


def test_record_delivery_refused_beyond_the_ordered_quantity(sales, manager, operations):
    order = advance_order(place_order(sales), "in_progress", by=manager)
    line = order.lines.get()
    with pytest.raises(ValidationError, match="between 0 and"):
        record_delivery(order, {line.pk: Decimal("3")}, by=operations)


def test_record_delivery_refused_on_hold(sales, manager, operations):
    order = advance_order(place_order(sales), "on_hold", by=manager)
    line = order.lines.get()
    with pytest.raises(ValidationError, match="on hold"):
        record_delivery(order, {line.pk: Decimal("1")}, by=operations)


def test_add_note_allowed_even_on_hold(sales, manager):
    order = advance_order(place_order(sales), "on_hold", by=manager)
    note = add_note(order, by=sales, message="Customer called about the delay.")
    assert note.kind == TimelineEvent.Kind.NOTE
    assert note.actor == sales


def test_add_note_refused_for_an_outsider(sales, outsider):
    order = place_order(sales)
    with pytest.raises(PermissionDenied):
        add_note(order, by=outsider, message="hello")


def test_archive_and_restore_product_never_deletes(manager):
    product = ProductFactory()
    product = archive_product(product, by=manager)
    assert not product.active
    assert product.archived_at is not None
    product = restore_product(product, by=manager)
    assert product.active
    with pytest.raises(ValidationError):
        product.delete()


def test_archive_product_refused_for_operations(operations):
    with pytest.raises(PermissionDenied):
        archive_product(ProductFactory(), by=operations)


def test_orders_are_never_deleted(sales):
    order = place_order(sales)
    with pytest.raises(ValidationError):
        order.delete()
    with pytest.raises(ValidationError):
        Order.objects.filter(pk=order.pk).delete()


def test_the_state_column_cannot_be_bulk_updated(sales):
    order = place_order(sales)
    with pytest.raises(TypeError):
        Order.objects.filter(pk=order.pk).update(status="paid")


def test_customer_delivery_address_is_the_default(sales):
    customer = CustomerFactory(delivery_address="9 Yard Road")
    order = place_order(sales, customer=customer)
    assert order.delivery_address == "9 Yard Road"


def test_cancel_refused_while_invoices_are_unsettled(sales, manager, finance):
    from invoicing.services import approve_invoice, create_deposit_invoice, void_invoice
    from orders.services import cancel_order

    order = advance_order(place_order(sales), "in_progress", by=manager)
    deposit = approve_invoice(
        create_deposit_invoice(order, by=finance, percent=Decimal("50")), by=finance
    )
    events = TimelineEvent.objects.filter(order=order).count()
    with pytest.raises(ValidationError, match=deposit.number):
        cancel_order(order, by=manager, reason="Customer withdrew")
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    assert TimelineEvent.objects.filter(order=order).count() == events
    void_invoice(deposit, by=finance, reason="Order withdrawn")
    order = cancel_order(order, by=manager, reason="Customer withdrew")
    assert order.status == Order.Status.CANCELLED
    assert order.closed_reason == "Customer withdrew"


def test_rework_clears_the_delivery(sales, manager, operations):
    from orders.services import rework_order

    order = advance_order(place_order(sales), "delivered", by=manager)
    order = rework_order(order, by=operations, reason="Wrong colour")
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    assert order.delivered_share == 0
    assert order.delivered_to == ""
    assert order.timeline.last().message == "Wrong colour"
