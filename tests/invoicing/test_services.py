from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from invoicing import services
from invoicing.models import Invoice, Payment
from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from orders.services import (
    OrderChanged,
    cancel_order,
    deliver_order,
    hold_order,
    resume_order,
    rework_order,
    start_work,
)
from tests.factories import CustomerFactory, line_data

pytestmark = pytest.mark.django_db

D = Decimal


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def _events(kind: str) -> int:
    return OutboxEvent.objects.filter(kind=kind).count()


def _approved_final(order, finance):
    return services.approve_invoice(services.draft_invoice_for_order(order), by=finance)


# --- drafting the final invoice -------------------------------------------------------------


def test_draft_final_copies_order_lines_and_totals(order_at, mixed_lines):
    order = order_at("delivered", lines=mixed_lines)
    invoice = services.draft_invoice_for_order(order, automation="on delivery")
    assert invoice.kind == Invoice.Kind.FINAL
    assert invoice.status == Invoice.Status.DRAFT
    assert invoice.number is None
    assert [line.description for line in invoice.lines.all()] == ["Widget", "Fitting"]
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        order.net_total,
        order.tax_total,
        order.gross_total,
    )
    assert _events("invoice.drafted") == 1
    event = TimelineEvent.objects.filter(order=order).last()
    assert event.automation == "on delivery"
    assert event.details["invoice_id"] == invoice.pk


def test_draft_final_returns_existing_draft_instead_of_a_second(order_at):
    order = order_at("delivered")
    first = services.draft_invoice_for_order(order)
    second = services.draft_invoice_for_order(order)
    assert first.pk == second.pk
    assert Invoice.objects.filter(order=order).count() == 1
    assert _events("invoice.drafted") == 1


@pytest.mark.parametrize("state", ["enquiry", "confirmed", "in_progress", "lost", "cancelled"])
def test_draft_final_refused_before_delivery(order_at, state):
    order = order_at(state)
    with pytest.raises(ValidationError, match="once the order is delivered"):
        services.draft_invoice_for_order(order)
    assert not Invoice.objects.exists()


def test_draft_final_refused_for_sales(order_at, sales):
    order = order_at("delivered")
    with pytest.raises(PermissionDenied):
        services.draft_invoice_for_order(order, by=sales)


def test_final_nets_off_deposit_and_milestone_to_the_cent(order_at, mixed_lines, finance):
    order = order_at("confirmed", lines=mixed_lines)
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=D("33.33")), by=finance
    )
    order = start_work(order, by=None)
    milestone = services.approve_invoice(
        services.create_milestone_invoice(
            order, by=finance, description="Stage 1: parts ordered", amount=D("50.01")
        ),
        by=finance,
    )
    order = deliver_order(order, by=None)
    final = services.draft_invoice_for_order(order)
    deductions = final.lines.filter(deducted_invoice__isnull=False)
    assert {line.deducted_invoice_id for line in deductions} == {deposit.pk, milestone.pk}
    assert final.gross_total >= 0
    assert deposit.gross_total + milestone.gross_total + final.gross_total == order.gross_total
    assert deposit.net_total + milestone.net_total + final.net_total == order.net_total
    assert deposit.tax_total + milestone.tax_total + final.tax_total == order.tax_total


def test_deposit_credited_in_part_is_deducted_only_for_what_remains(order_at, finance):
    order = order_at("in_progress")
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, amount=D("50.00")), by=finance
    )
    note = services.create_credit_note(deposit, by=finance, reason="Overstated", amount=D("12"))
    order = deliver_order(order, by=None)
    final = services.draft_invoice_for_order(order)
    assert deposit.gross_total - note.gross_total + final.gross_total == order.gross_total
    assert final.gross_total == D("120.00") - D("60.00") + D("12.00")


def test_draft_final_refused_on_hold(order_at, operations):
    order = order_at("in_progress")
    hold_order(order, by=operations, reason="Awaiting parts")
    with pytest.raises(ValidationError, match="on hold"):
        services.draft_invoice_for_order(_fresh(order))


# --- deposits and milestones ------------------------------------------------------------------


@pytest.mark.parametrize("state", ["confirmed", "in_progress", "delivered"])
def test_deposit_allowed_while_staged(order_at, finance, state):
    order = order_at(state)
    invoice = services.create_deposit_invoice(order, by=finance, percent=D("25"))
    assert invoice.kind == Invoice.Kind.DEPOSIT
    assert invoice.net_total == D("25.00")
    assert invoice.tax_total == D("5.00")


@pytest.mark.parametrize("state", ["enquiry", "quoted", "lost", "cancelled"])
def test_deposit_refused_outside_staged_states(order_at, finance, state):
    order = order_at(state)
    with pytest.raises(ValidationError, match="confirmed, in progress or delivered"):
        services.create_deposit_invoice(order, by=finance, percent=D("25"))


def test_deposit_refused_on_hold(order_at, finance, operations):
    order = order_at("confirmed")
    order = hold_order(order, by=operations, reason="Credit check")
    with pytest.raises(ValidationError, match="on hold"):
        services.create_deposit_invoice(order, by=finance, percent=D("25"))
    assert not Invoice.objects.exists()


def test_deposit_spread_over_tax_rates_in_proportion(order_at, finance, mixed_lines):
    order = order_at("confirmed", lines=mixed_lines)
    invoice = services.create_deposit_invoice(order, by=finance, amount=D("100.00"))
    lines = {line.tax_rate: line for line in invoice.lines.all()}
    assert set(lines) == {D("5.00"), D("20.00")}
    assert sum(line.net_amount for line in lines.values()) == D("100.00")
    for line in lines.values():
        assert line.tax_amount == (line.net_amount * line.tax_rate / 100).quantize(D("0.01"))


def test_deposit_needs_percent_or_amount_not_both(order_at, finance):
    order = order_at("confirmed")
    with pytest.raises(ValidationError):
        services.create_deposit_invoice(order, by=finance)
    with pytest.raises(ValidationError):
        services.create_deposit_invoice(order, by=finance, percent=D("10"), amount=D("5"))


def test_deposits_cannot_bill_more_than_the_order(order_at, finance):
    order = order_at("confirmed")
    services.create_deposit_invoice(order, by=finance, percent=D("60"))
    with pytest.raises(ValidationError, match="more than its total"):
        services.create_deposit_invoice(order, by=finance, percent=D("50"))
    with pytest.raises(ValidationError, match="more than 100%"):
        services.create_deposit_invoice(order, by=finance, percent=D("101"))


def test_milestone_needs_description_and_positive_amount(order_at, finance):
    order = order_at("in_progress")
    with pytest.raises(ValidationError, match="description"):
        services.create_milestone_invoice(order, by=finance, description=" ", amount=D("10"))
    with pytest.raises(ValidationError, match="more than zero"):
        services.create_milestone_invoice(order, by=finance, description="Stage", amount=D("0"))


def test_no_deposit_once_a_final_invoice_exists(order_at, finance):
    order = order_at("delivered")
    services.draft_invoice_for_order(order)
    with pytest.raises(ValidationError, match="already has a final invoice"):
        services.create_deposit_invoice(order, by=finance, percent=D("10"))


def test_deposit_covering_the_whole_order_leaves_a_zero_final(order_at, finance):
    order = order_at("in_progress")
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=D("100")), by=finance
    )
    services.record_payment(deposit, by=finance, amount=deposit.gross_total)
    order = deliver_order(order, by=None)
    final = services.draft_invoice_for_order(order)
    assert final.gross_total == D("0.00")
    assert final.number  # a nil-balance statement, issued at once
    assert final.status == Invoice.Status.PAID
    assert _fresh(order).status == Order.Status.PAID
    assert _events("order.invoiced") == _events("order.paid") == 1


# --- approval -----------------------------------------------------------------------------------


def test_approve_numbers_dates_and_moves_the_order_to_invoiced(order_at, finance):
    customer = CustomerFactory(payment_terms_days=14)
    order = order_at("delivered", customer=customer)
    with time_machine.travel(date(2026, 3, 10)):
        invoice = _approved_final(order, finance)
    assert invoice.number == "INV-2026-00001"
    assert invoice.status == Invoice.Status.APPROVED
    assert invoice.issue_date == date(2026, 3, 10)
    assert invoice.due_date == date(2026, 3, 24)
    assert invoice.approved_by == finance
    order = _fresh(order)
    assert order.status == Order.Status.INVOICED
    transition = TimelineEvent.objects.get(order=order, to_state="invoiced")
    assert transition.actor is None
    assert transition.automation == "invoicing"
    assert _events("invoice.approved") == 1
    assert _events("order.invoiced") == 1


def test_approve_refused_twice(order_at, finance):
    order = order_at("delivered")
    invoice = services.draft_invoice_for_order(order)
    services.approve_invoice(invoice, by=finance)
    with pytest.raises(OrderChanged):
        services.approve_invoice(invoice, by=finance)  # a stale copy: someone acted first
    with pytest.raises(ValidationError, match="already approved"):
        services.approve_invoice(_fresh(invoice), by=finance)
    assert _events("invoice.approved") == 1


def test_approve_refused_for_operations(order_at, operations):
    invoice = services.draft_invoice_for_order(order_at("delivered"))
    with pytest.raises(PermissionDenied):
        services.approve_invoice(invoice, by=operations)
    assert _fresh(invoice).status == Invoice.Status.DRAFT


def test_manager_may_approve(order_at, manager):
    invoice = services.draft_invoice_for_order(order_at("delivered"))
    assert services.approve_invoice(invoice, by=manager).number


def test_approve_refused_while_order_on_hold(order_at, finance, operations):
    order = order_at("confirmed")
    deposit = services.create_deposit_invoice(order, by=finance, percent=D("20"))
    hold_order(order, by=operations, reason="Customer query")
    with pytest.raises(ValidationError, match="on hold"):
        services.approve_invoice(deposit, by=finance)
    assert _fresh(deposit).number is None
    resume_order(_fresh(order), by=operations)
    assert services.approve_invoice(deposit, by=finance).number == (
        f"INV-{deposit.created_at.year}-00001"
    )


def test_final_approval_refused_after_rework(order_at, finance, operations):
    order = order_at("delivered")
    invoice = services.draft_invoice_for_order(order)
    rework_order(order, by=operations, reason="Wrong colour")
    with pytest.raises(ValidationError, match="once the order is delivered"):
        services.approve_invoice(invoice, by=finance)


def test_final_refreshes_deductions_at_approval(order_at, finance):
    order = order_at("delivered")
    deposit = services.create_deposit_invoice(order, by=finance, percent=D("50"))
    final = services.draft_invoice_for_order(order)
    assert final.gross_total == D("120.00")  # the deposit was still a draft
    services.approve_invoice(deposit, by=finance)
    final = services.approve_invoice(final, by=finance)
    assert final.gross_total == D("60.00")
    assert _fresh(order).status == Order.Status.INVOICED


def test_partial_final_does_not_mark_invoiced(order_at, finance):
    order = order_at("delivered")
    final = services.draft_invoice_for_order(order)
    services.update_draft_invoice_lines(
        final, [line_data(quantity=D("1"))], by=finance
    )  # finance bills half now
    services.approve_invoice(final, by=finance)
    assert _fresh(order).status == Order.Status.DELIVERED


# --- editing drafts -----------------------------------------------------------------------


def test_update_draft_lines_recomputes_totals(order_at, finance):
    invoice = services.draft_invoice_for_order(order_at("delivered"))
    invoice = services.update_draft_invoice_lines(
        invoice,
        [
            {"description": "Widget", "quantity": "2", "unit_price": "50", "tax_rate": "20"},
            {"description": "Carriage", "quantity": "1", "unit_price": "9.99", "tax_rate": "0"},
        ],
        by=finance,
    )
    assert invoice.net_total == D("109.99")
    assert invoice.tax_total == D("20.00")
    assert invoice.gross_total == D("129.99")
    assert invoice.lines.count() == 2


def test_update_lines_refused_once_issued(order_at, finance):
    invoice = _approved_final(order_at("delivered"), finance)
    with pytest.raises(ValidationError, match="credit note"):
        services.update_draft_invoice_lines(invoice, [line_data()], by=finance)


def test_update_lines_refused_with_bad_input(order_at, finance):
    invoice = services.draft_invoice_for_order(order_at("delivered"))
    with pytest.raises(ValidationError, match="description"):
        services.update_draft_invoice_lines(invoice, [line_data(description="")], by=finance)
    with pytest.raises(ValidationError, match="invalid number"):
        services.update_draft_invoice_lines(invoice, [line_data(unit_price="ten")], by=finance)
    with pytest.raises(ValidationError, match="at least one line"):
        services.update_draft_invoice_lines(invoice, [], by=finance)
    assert _fresh(invoice).gross_total == D("120.00")


# --- payments -------------------------------------------------------------------------------


def test_part_payment_then_full_payment_marks_order_paid(order_at, finance):
    order = order_at("delivered")
    invoice = _approved_final(order, finance)
    services.record_payment(invoice, by=finance, amount=D("20.00"), reference="BACS 1")
    invoice = _fresh(invoice)
    assert invoice.status == Invoice.Status.PART_PAID
    assert invoice.outstanding == D("100.00")
    assert _fresh(order).status == Order.Status.INVOICED
    payment = services.record_payment(invoice, by=finance, amount=D("100"), method="card")
    assert payment.amount == D("100.00")
    assert _fresh(invoice).status == Invoice.Status.PAID
    order = _fresh(order)
    assert order.status == Order.Status.PAID
    assert _events("payment.recorded") == 2
    assert _events("order.paid") == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("0"), "more than zero"),
        (D("-5"), "more than zero"),
        (D("120.01"), "more than the GBP 120.00 outstanding"),
        ("lots", "amount of money"),
    ],
)
def test_payment_refused_for_bad_amounts(order_at, finance, amount, message):
    invoice = _approved_final(order_at("delivered"), finance)
    with pytest.raises(ValidationError, match=message):
        services.record_payment(invoice, by=finance, amount=amount)
    assert not Payment.objects.exists()
    assert _events("payment.recorded") == 0


def test_payment_refused_on_draft_and_void(order_at, finance):
    order = order_at("delivered")
    draft = services.draft_invoice_for_order(order)
    with pytest.raises(ValidationError, match="draft"):
        services.record_payment(draft, by=finance, amount=D("1"))
    invoice = services.approve_invoice(draft, by=finance)
    invoice = services.void_invoice(invoice, by=finance, reason="Raised in error")
    with pytest.raises(ValidationError, match="void"):
        services.record_payment(invoice, by=finance, amount=D("1"))
    assert not Payment.objects.exists()


def test_payment_refused_on_credit_note(order_at, finance):
    invoice = _approved_final(order_at("delivered"), finance)
    note = services.create_credit_note(invoice, by=finance, reason="Damaged", amount=D("10"))
    with pytest.raises(ValidationError, match="credit note"):
        services.record_payment(note, by=finance, amount=D("1"))


def test_payment_recorded_while_order_on_hold(order_at, finance, operations):
    order = order_at("in_progress")
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=D("50")), by=finance
    )
    hold_order(order, by=operations, reason="Site closed")
    services.record_payment(deposit, by=finance, amount=deposit.gross_total)
    assert _fresh(deposit).status == Invoice.Status.PAID
    assert _fresh(order).status == Order.Status.ON_HOLD


def test_payment_with_same_external_id_is_recorded_once(order_at):
    invoice = _approved_final(order_at("delivered"), None)
    first = services.record_payment(invoice, by=None, amount=D("10"), external_id="xero-1")
    again = services.record_payment(_fresh(invoice), by=None, amount=D("10"), external_id="xero-1")
    assert first.pk == again.pk
    assert _fresh(invoice).amount_paid == D("10.00")


def test_payment_refused_for_sales(order_at, finance, sales):
    invoice = _approved_final(order_at("delivered"), finance)
    with pytest.raises(PermissionDenied):
        services.record_payment(invoice, by=sales, amount=D("1"))


# --- credit notes and void ----------------------------------------------------------------


def test_credit_note_whole_reopens_billing(order_at, finance):
    order = order_at("delivered")
    invoice = _approved_final(order, finance)
    assert _fresh(order).status == Order.Status.INVOICED
    note = services.create_credit_note(invoice, by=finance, reason="Returned")
    assert note.kind == Invoice.Kind.CREDIT_NOTE
    assert note.number.startswith("CN-")
    assert note.status == Invoice.Status.APPROVED
    assert note.gross_total == D("120.00")
    assert note.credited_invoice_id == invoice.pk
    invoice = _fresh(invoice)
    assert invoice.amount_credited == D("120.00")
    assert invoice.status == Invoice.Status.PAID  # settled by credit, as Xero has it
    assert _fresh(order).status == Order.Status.DELIVERED
    assert _events("order.billing_reopened") == 1
    assert _events("invoice.credited") == 1


def test_credit_note_in_part_hits_the_exact_amount(order_at, finance, mixed_lines):
    order = order_at("delivered", lines=mixed_lines)
    invoice = _approved_final(order, finance)
    note = services.create_credit_note(invoice, by=finance, reason="Goodwill", amount=D("33.33"))
    assert note.gross_total == D("33.33")
    assert note.net_total + note.tax_total == D("33.33")
    assert _fresh(invoice).outstanding == order.gross_total - D("33.33")


def test_credit_note_never_more_than_uncredited(order_at, finance):
    invoice = _approved_final(order_at("delivered"), finance)
    services.create_credit_note(invoice, by=finance, reason="Short", amount=D("100"))
    with pytest.raises(ValidationError, match="left to credit"):
        services.create_credit_note(_fresh(invoice), by=finance, reason="More", amount=D("20.01"))
    note = services.create_credit_note(_fresh(invoice), by=finance, reason="Rest")
    assert note.gross_total == D("20.00")
    with pytest.raises(ValidationError, match="credited in full"):
        services.create_credit_note(_fresh(invoice), by=finance, reason="Again")


def test_credit_note_needs_a_reason_and_an_issued_invoice(order_at, finance):
    order = order_at("delivered")
    draft = services.draft_invoice_for_order(order)
    with pytest.raises(ValidationError, match="reason"):
        services.create_credit_note(draft, by=finance, reason="  ")
    with pytest.raises(ValidationError, match="only issued invoices"):
        services.create_credit_note(draft, by=finance, reason="Oops")


def test_new_final_after_credit_bills_only_the_credited_amount(order_at, finance):
    order = order_at("delivered")
    first = _approved_final(order, finance)
    services.create_credit_note(first, by=finance, reason="Wrong price", amount=D("30"))
    order = _fresh(order)
    assert order.status == Order.Status.DELIVERED
    second = services.draft_invoice_for_order(order)
    assert second.gross_total == D("30.00")
    second = services.approve_invoice(second, by=finance)
    assert _fresh(order).status == Order.Status.INVOICED


def test_void_keeps_number_and_credits_the_unpaid_amount(order_at, finance):
    order = order_at("delivered")
    invoice = _approved_final(order, finance)
    number = invoice.number
    invoice = services.void_invoice(invoice, by=finance, reason="Sent to the wrong customer")
    assert invoice.status == Invoice.Status.VOID
    assert invoice.number == number
    assert invoice.void_reason == "Sent to the wrong customer"
    note = invoice.credit_notes.get()
    assert note.gross_total == D("120.00")
    assert _fresh(order).status == Order.Status.DELIVERED
    assert _events("invoice.voided") == 1


def test_void_refused_without_reason_or_after_payment(order_at, finance):
    invoice = _approved_final(order_at("delivered"), finance)
    with pytest.raises(ValidationError, match="reason"):
        services.void_invoice(invoice, by=finance, reason="")
    services.record_payment(invoice, by=finance, amount=D("1"))
    with pytest.raises(ValidationError, match="credit note instead"):
        services.void_invoice(_fresh(invoice), by=finance, reason="Wrong")
    assert _fresh(invoice).status == Invoice.Status.PART_PAID


# --- sending, disputes, promises ------------------------------------------------------------


def test_send_publishes_and_refuses_drafts(order_at, finance):
    order = order_at("delivered")
    draft = services.draft_invoice_for_order(order)
    with pytest.raises(ValidationError, match="only approved"):
        services.send_invoice(draft, by=finance)
    invoice = services.send_invoice(services.approve_invoice(draft, by=finance), by=finance)
    assert invoice.status == Invoice.Status.SENT
    assert invoice.sent_at is not None
    assert _events("invoice.sent") == 1


def test_dispute_and_resolve(order_at, finance):
    invoice = _approved_final(order_at("delivered"), finance)
    invoice = services.dispute_invoice(invoice, by=finance, reason="Quantity wrong")
    assert invoice.disputed
    with pytest.raises(ValidationError, match="already disputed"):
        services.dispute_invoice(invoice, by=finance, reason="Again")
    invoice = services.resolve_dispute(invoice, by=finance, resolution="Explained the count")
    assert not invoice.disputed
    with pytest.raises(ValidationError, match="not disputed"):
        services.resolve_dispute(invoice, by=finance, resolution="x")
    assert _events("invoice.disputed") == 1
    assert _events("invoice.dispute_resolved") == 1


def test_promise_to_pay_needs_a_future_date(order_at, finance):
    invoice = _approved_final(order_at("delivered"), finance)
    with pytest.raises(ValidationError, match="from today"):
        services.set_promise_to_pay(invoice, by=finance, date=date.today() - timedelta(days=1))
    invoice = services.set_promise_to_pay(
        invoice, by=finance, date=date.today() + timedelta(days=7)
    )
    assert invoice.promise_to_pay_date == date.today() + timedelta(days=7)
    assert _events("invoice.promise_recorded") == 1


def test_cancel_refused_while_deposit_unsettled(order_at, finance, manager):
    order = order_at("confirmed")
    deposit = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=D("10")), by=finance
    )
    with pytest.raises(ValidationError, match="unsettled invoices"):
        cancel_order(order, by=manager, reason="Customer withdrew")
    services.create_credit_note(deposit, by=finance, reason="Order withdrawn")
    assert cancel_order(_fresh(order), by=manager, reason="Customer withdrew").status == (
        Order.Status.CANCELLED
    )


# --- discarding drafts ----------------------------------------------------------------------


def test_discarded_draft_keeps_no_number_and_frees_the_order(order_at, finance):
    order = order_at("confirmed")
    wrong = services.create_deposit_invoice(order, by=finance, percent=D("90"))
    with pytest.raises(ValidationError, match="more than its total"):
        services.create_deposit_invoice(order, by=finance, percent=D("20"))
    wrong = services.discard_draft_invoice(wrong, by=finance, reason="Wrong percentage")
    assert wrong.status == Invoice.Status.VOID
    assert wrong.number is None
    assert wrong.void_reason == "Wrong percentage"
    right = services.approve_invoice(
        services.create_deposit_invoice(order, by=finance, percent=D("20")), by=finance
    )
    assert right.number.endswith("-00001")  # no number was spent on the discarded draft
    assert _events("invoice.discarded") == 1


def test_discard_refused_for_issued_invoices_and_without_reason(order_at, finance):
    draft = services.draft_invoice_for_order(order_at("delivered"))
    with pytest.raises(ValidationError, match="reason"):
        services.discard_draft_invoice(draft, by=finance, reason="")
    issued = services.approve_invoice(draft, by=finance)
    with pytest.raises(ValidationError, match="only drafts"):
        services.discard_draft_invoice(issued, by=finance, reason="Oops")
    assert _fresh(issued).status == Invoice.Status.APPROVED


def test_redraft_after_discarding_the_final(order_at, finance):
    order = order_at("delivered")
    first = services.draft_invoice_for_order(order)
    services.discard_draft_invoice(first, by=finance, reason="Start again")
    second = services.draft_invoice_for_order(order)
    assert second.pk != first.pk
    assert second.gross_total == D("120.00")
