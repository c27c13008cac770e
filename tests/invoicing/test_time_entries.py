"""Time and materials: hours recorded against an order are billed once, on the next
invoice drafted for it, on top of the order total."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from invoicing import services
from invoicing.models import Invoice, TimeEntry
from orders.models import Order

pytestmark = pytest.mark.django_db


def _time(order, by, hours="2.5", rate="40.00", **fields):
    return services.record_time_entry(
        order,
        by=by,
        person=fields.pop("person", "Sam Fitter"),
        date=fields.pop("day", date(2026, 1, 5)),
        hours=hours,
        rate=rate,
        description=fields.pop("description", "Extra fitting"),
        **fields,
    )


def test_time_goes_on_the_final_invoice_on_top_of_the_order(order_at, operations, finance):
    order = order_at("in_progress")
    entry = _time(order, operations)
    order.refresh_from_db()
    from orders.services import deliver_order

    order = deliver_order(order, by=operations, received_by="Site")
    invoice = services.draft_invoice_for_order(order, by=finance)
    entry.refresh_from_db()
    assert entry.invoice_line.invoice == invoice
    assert entry.invoice_line.net_amount == Decimal("100.00")
    # 100.00 + 20% for the order, 100.00 + 20% for the time.
    assert invoice.gross_total == Decimal("240.00")
    services.approve_invoice(invoice, by=finance)
    order.refresh_from_db()
    assert order.status == Order.Status.INVOICED


def test_time_recorded_while_a_draft_is_open_lands_on_it(order_at, operations, finance):
    order = order_at("delivered")
    invoice = services.draft_invoice_for_order(order, by=finance)
    _time(order, operations, hours="1", rate="30")
    invoice.refresh_from_db()
    assert invoice.gross_total == Decimal("156.00")
    assert invoice.lines.filter(bills_time=True).count() == 1


def test_each_entry_is_billed_exactly_once(order_at, operations, finance):
    order = order_at("confirmed")
    _time(order, operations)
    deposit = services.create_deposit_invoice(order, by=finance, percent=Decimal("50"))
    assert deposit.lines.filter(bills_time=True).count() == 1
    services.approve_invoice(deposit, by=finance)
    milestone = services.create_milestone_invoice(
        order, by=finance, description="Stage 1", amount=Decimal("10.00")
    )
    assert not milestone.lines.filter(bills_time=True).exists()
    assert TimeEntry.objects.unbilled().count() == 0


def test_final_nets_off_the_deposit_but_not_the_time_billed_on_it(order_at, operations, finance):
    order = order_at("confirmed")
    _time(order, operations)  # 100.00 net of time
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=Decimal("50")), by=finance
    )
    assert deposit.gross_total == Decimal("180.00")  # 60.00 deposit + 120.00 time
    from orders.services import deliver_order, start_work

    order = deliver_order(start_work(order, by=operations), by=operations, received_by="Site")
    final = services.draft_invoice_for_order(order, by=finance)
    assert final.gross_total == Decimal("60.00")
    services.approve_invoice(final, by=finance)
    order.refresh_from_db()
    assert order.status == Order.Status.INVOICED
    # Order total plus time, to the cent.
    assert deposit.gross_total + final.gross_total == order.gross_total + Decimal("120.00")


def test_discarded_draft_releases_its_entries(order_at, operations, finance):
    order = order_at("delivered")
    entry = _time(order, operations)
    draft = services.draft_invoice_for_order(order, by=finance)
    entry.refresh_from_db()
    assert entry.invoice_line is not None
    services.discard_draft_invoice(draft, by=finance, reason="Raised in error")
    entry.refresh_from_db()
    assert entry.invoice_line is None
    again = services.draft_invoice_for_order(order, by=finance)
    assert again.pk != draft.pk
    entry.refresh_from_db()
    assert entry.invoice_line.invoice == again


def test_editing_draft_lines_keeps_billed_time(order_at, operations, finance):
    order = order_at("delivered")
    _time(order, operations)
    draft = services.draft_invoice_for_order(order, by=finance)
    services.update_draft_invoice_lines(
        draft,
        [{"description": "Widget", "quantity": "1", "unit_price": "50.00", "tax_rate": "20"}],
        by=finance,
    )
    draft.refresh_from_db()
    assert draft.lines.filter(bills_time=True).count() == 1
    assert draft.gross_total == Decimal("180.00")


def test_sales_cannot_record_time(order_at, sales):
    with pytest.raises(PermissionDenied):
        _time(order_at("in_progress"), sales)
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hours": "0"}, "number of hours must be more than zero"),
        ({"hours": "x"}, "number of hours must be an amount"),
        ({"rate": "-1"}, "rate cannot be less than zero"),
        ({"person": " "}, "who did the work"),
        ({"day": date(2099, 1, 1)}, "today or earlier"),
    ],
)
def test_bad_time_entries_are_refused(order_at, operations, fields, message):
    order = order_at("in_progress")
    with pytest.raises(ValidationError, match=message):
        _time(order, operations, **fields)
    assert not TimeEntry.objects.exists()


def test_time_refused_once_the_final_is_approved(order_at, finance, operations):
    order = order_at("delivered")
    services.approve_invoice(services.draft_invoice_for_order(order, by=finance), by=finance)
    order.refresh_from_db()
    with pytest.raises(ValidationError, match="is invoiced"):
        _time(order, operations)


def test_time_entries_are_never_deleted(order_at, operations):
    entry = _time(order_at("in_progress"), operations)
    with pytest.raises(ValidationError):
        entry.delete()
    assert Invoice.objects.count() == 0


def test_billing_summary_counts_time_apart_from_the_order(order_at, operations, finance):
    from invoicing.queries import billing_summary

    order = order_at("confirmed")
    _time(order, operations)
    services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=Decimal("50")), by=finance
    )
    summary = billing_summary(order)
    assert summary.invoiced == Decimal("180.00")
    assert summary.time == Decimal("120.00")
    assert summary.to_invoice == Decimal("60.00")


def test_time_released_by_a_discarded_draft_moves_to_the_other_open_draft(
    order_at, operations, finance
):
    order = order_at("delivered")
    _time(order, operations)
    deposit = services.create_deposit_invoice(order, by=finance, amount=Decimal("10.00"))
    final = services.draft_invoice_for_order(order, by=finance)
    assert deposit.lines.filter(bills_time=True).exists()
    services.discard_draft_invoice(deposit, by=finance, reason="Not needed")
    final.refresh_from_db()
    assert final.lines.filter(bills_time=True).count() == 1
    assert TimeEntry.objects.get().invoice_line.invoice == final
