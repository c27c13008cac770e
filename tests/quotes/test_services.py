"""Quotes: versions, sending with a frozen snapshot, acceptance that confirms the order on
exactly the quoted terms, declines, expiry, extension and follow-up pauses."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from orders.services import set_order_lines
from quotes.models import Quote
from quotes.services import (
    accept_quote,
    create_quote,
    decline_quote,
    expire_quote,
    extend_quote,
    pause_quote_followups,
    resume_quote_followups,
    revise_quote,
    send_quote,
)
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    advance_order,
    line_data,
    place_order,
    send_new_quote,
)

pytestmark = pytest.mark.django_db


def kinds(order) -> list[str]:
    return list(OutboxEvent.objects.filter(order_id=order.pk).values_list("kind", flat=True))


def test_create_quote_is_a_draft_valid_for_the_configured_days(sales, settings):
    settings.QUOTE_VALIDITY_DAYS = 14
    order = place_order(sales)
    quote = create_quote(order, by=sales, terms="50% deposit")
    assert quote.status == Quote.Status.DRAFT
    assert quote.version == 1
    assert quote.valid_until == timezone.localdate() + timedelta(days=14)
    assert quote.reference == f"{order.number}-Q1"
    order.refresh_from_db()
    assert order.status == Order.Status.ENQUIRY


def test_create_quote_refused_to_operations(sales, operations):
    with pytest.raises(PermissionDenied):
        create_quote(place_order(sales), by=operations)


def test_create_quote_refused_once_confirmed(sales, manager):
    order = advance_order(place_order(sales), "confirmed", by=manager)
    with pytest.raises(ValidationError, match="confirmed"):
        create_quote(order, by=manager)


def test_send_quote_snapshots_lines_and_moves_the_order_to_quoted(sales):
    customer = CustomerFactory()
    ContactFactory(customer=customer, email="buyer@customer.example")
    order = place_order(sales, customer=customer)
    quote = send_quote(create_quote(order, by=sales), by=sales)
    assert quote.status == Quote.Status.SENT
    assert quote.sent_to == "buyer@customer.example"
    assert quote.gross_total == Decimal("120.00")
    assert quote.lines_snapshot[0]["description"] == "Widget"
    assert quote.lines_snapshot[0]["unit_price"] == "50.00"
    order.refresh_from_db()
    assert order.status == Order.Status.QUOTED
    assert order.quoted_at is not None
    assert "quote.sent" in kinds(order)
    assert "order.quoted" in kinds(order)
    event = order.timeline.get(to_state="quoted")
    assert "sent to buyer@customer.example" in event.message


def test_snapshot_does_not_follow_later_line_edits(sales):
    order = place_order(sales)
    quote = send_new_quote(order, sales)
    set_order_lines(quote.order, [line_data(quantity=Decimal("10"))], by=sales)
    quote.refresh_from_db()
    assert quote.lines_snapshot[0]["quantity"] == "2.000"
    assert quote.gross_total == Decimal("120.00")


def test_send_quote_refused_without_lines(sales):
    order = place_order(sales, lines=[])
    with pytest.raises(ValidationError, match="at least one line"):
        send_quote(create_quote(order, by=sales), by=sales)
    assert not OutboxEvent.objects.filter(kind="quote.sent").exists()


def test_sending_a_new_version_supersedes_the_previous(sales):
    order = place_order(sales)
    first = send_new_quote(order, sales)
    set_order_lines(first.order, [line_data(unit_price=Decimal("45.00"))], by=sales)
    second = send_new_quote(first.order, sales)
    first.refresh_from_db()
    order.refresh_from_db()
    assert (first.status, second.status) == (Quote.Status.SUPERSEDED, Quote.Status.SENT)
    assert second.version == 2
    assert second.gross_total == Decimal("108.00")
    assert order.status == Order.Status.QUOTED
    assert order.timeline.filter(from_state="quoted", to_state="quoted").count() == 1
    assert OutboxEvent.objects.get(kind="quote.sent", subject_id=second.pk).payload[
        "superseded"
    ] == [1]


def test_a_sent_quote_is_not_sent_again(sales):
    quote = send_new_quote(place_order(sales), sales)
    with pytest.raises(ValidationError, match="revise"):
        send_quote(quote, by=sales)


def test_accepting_confirms_the_order_with_every_detail_retained(sales):
    order = place_order(
        sales,
        title="Kitchen refit",
        specification="Oak worktops",
        special_instructions="Call before arriving",
        lines=[
            line_data(description="Worktop", quantity=Decimal("3"), unit_price=Decimal("210")),
            line_data(description="Fitting", quantity=Decimal("8"), unit_price=Decimal("45")),
        ],
    )
    quote = send_new_quote(order, sales)
    quote = accept_quote(quote, name="Jane Buyer", ip="203.0.113.9", po="PO-778")
    assert quote.status == Quote.Status.ACCEPTED
    assert (quote.accepted_by_name, quote.accepted_ip, quote.accepted_po) == (
        "Jane Buyer",
        "203.0.113.9",
        "PO-778",
    )
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    assert order.po_reference == "PO-778"
    assert (order.title, order.specification, order.special_instructions) == (
        "Kitchen refit",
        "Oak worktops",
        "Call before arriving",
    )
    assert [(line.description, line.quantity) for line in order.lines.all()] == [
        ("Worktop", Decimal("3")),
        ("Fitting", Decimal("8")),
    ]
    assert order.gross_total == quote.gross_total == Decimal("1188.00")
    event = order.timeline.get(to_state="confirmed")
    assert event.actor is None
    assert event.automation == "customer"
    assert "accepted by Jane Buyer" in event.message
    assert {"quote.accepted", "order.confirmed"} <= set(kinds(order))


def test_accepting_restores_the_quoted_lines_after_later_edits(sales):
    order = place_order(sales)
    quote = send_new_quote(order, sales)
    set_order_lines(quote.order, [line_data(quantity=Decimal("99"))], by=sales)
    accept_quote(quote, by=sales, name="Jane Buyer")
    order.refresh_from_db()
    assert order.lines.get().quantity == Decimal("2")
    assert order.gross_total == Decimal("120.00")


def test_accepting_an_expired_quote_is_refused_with_a_clear_message(sales):
    order = place_order(sales)
    quote = send_new_quote(order, sales, valid_until=timezone.localdate() + timedelta(days=3))
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        with pytest.raises(ValidationError, match="expired on"):
            accept_quote(quote, name="Jane Buyer")
        expire_quote(quote)
        quote.refresh_from_db()
        with pytest.raises(ValidationError, match="expired on"):
            accept_quote(quote, name="Jane Buyer")
    order.refresh_from_db()
    assert order.status == Order.Status.QUOTED


def test_accepting_a_superseded_quote_is_refused(sales):
    order = place_order(sales)
    first = send_new_quote(order, sales)
    send_new_quote(first.order, sales)
    first.refresh_from_db()
    with pytest.raises(ValidationError, match="replaced by version 2"):
        accept_quote(first, name="Jane Buyer")
    order.refresh_from_db()
    assert order.status == Order.Status.QUOTED


def test_accepting_needs_a_name(sales):
    quote = send_new_quote(place_order(sales), sales)
    with pytest.raises(ValidationError, match="name"):
        accept_quote(quote, name=" ")


def test_accepting_for_the_customer_is_refused_to_operations(sales, operations):
    quote = send_new_quote(place_order(sales), sales)
    with pytest.raises(PermissionDenied):
        accept_quote(quote, by=operations, name="Jane Buyer")


def test_declining_loses_the_order_with_the_reason(sales):
    order = place_order(sales)
    quote = decline_quote(send_new_quote(order, sales), reason="Found it cheaper")
    assert quote.status == Quote.Status.DECLINED
    order.refresh_from_db()
    assert order.status == Order.Status.LOST
    assert "Found it cheaper" in order.closed_reason
    assert {"quote.declined", "order.lost"} <= set(kinds(order))


def test_expiry_waits_for_the_validity_date(sales):
    quote = send_new_quote(place_order(sales), sales)
    with pytest.raises(ValidationError, match="not expired"):
        expire_quote(quote)


def test_expiry_keeps_the_order_quoted_and_tells_sales(sales):
    order = place_order(sales)
    quote = send_new_quote(order, sales, valid_until=timezone.localdate())
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        quote = expire_quote(quote)
    assert quote.status == Quote.Status.EXPIRED
    order.refresh_from_db()
    assert order.status == Order.Status.QUOTED
    assert "quote.expired" in kinds(order)
    assert order.timeline.filter(kind=TimelineEvent.Kind.SYSTEM).exists()


def test_extending_an_expired_quote_makes_it_acceptable_again(sales):
    order = place_order(sales)
    quote = send_new_quote(order, sales, valid_until=timezone.localdate())
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        quote = expire_quote(quote)
        quote = extend_quote(quote, by=sales, valid_until=timezone.localdate() + timedelta(7))
        assert quote.status == Quote.Status.SENT
        accept_quote(quote, name="Jane Buyer")
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_extending_to_the_past_is_refused(sales):
    quote = send_new_quote(place_order(sales), sales)
    with pytest.raises(ValidationError, match="past"):
        extend_quote(quote, by=sales, valid_until=timezone.localdate() - timedelta(days=1))


def test_revise_starts_the_next_version_as_a_draft(sales):
    order = place_order(sales)
    first = send_new_quote(order, sales, terms="Net 30")
    draft = revise_quote(first, by=sales)
    assert (draft.version, draft.status, draft.terms) == (2, Quote.Status.DRAFT, "Net 30")
    first.refresh_from_db()
    assert first.status == Quote.Status.SENT  # superseded only when the new one is sent
    with pytest.raises(ValidationError, match="already a draft"):
        revise_quote(first, by=sales)


def test_followups_pause_and_resume(sales):
    quote = send_new_quote(place_order(sales), sales)
    quote = pause_quote_followups(quote, by=sales)
    assert quote.followups_paused
    quote = resume_quote_followups(quote, by=sales)
    assert not quote.followups_paused
    assert OutboxEvent.objects.filter(kind="quote.followups_paused").count() == 1
    assert OutboxEvent.objects.filter(kind="quote.followups_resumed").count() == 1


def test_quotes_refused_while_the_order_is_on_hold(sales, manager):
    order = advance_order(place_order(sales), "on_hold", by=manager)
    with pytest.raises(ValidationError, match="on hold"):
        create_quote(order, by=manager)


def test_a_stale_quote_gets_order_changed(sales):
    from orders.services import OrderChanged

    quote = send_new_quote(place_order(sales), sales)
    stale = Quote.objects.get(pk=quote.pk)
    accept_quote(quote, name="Jane Buyer")
    with pytest.raises(OrderChanged):
        decline_quote(stale, reason="late")


def test_declining_after_the_order_was_marked_lost_keeps_the_answer(sales):
    from orders.services import lose_order

    order = place_order(sales)
    quote = send_new_quote(order, sales)
    lose_order(quote.order, by=sales, reason="No reply for a month")
    quote = decline_quote(quote, reason="Project shelved")
    assert quote.status == Quote.Status.DECLINED
    order.refresh_from_db()
    assert order.closed_reason == "No reply for a month"
    assert order.timeline.filter(kind="communication", message__contains="shelved").exists()


def test_quote_state_is_never_bulk_updated_and_quotes_are_never_deleted(sales):
    quote = send_new_quote(place_order(sales), sales)
    with pytest.raises(TypeError):
        Quote.objects.filter(pk=quote.pk).update(status="accepted")
    with pytest.raises(ValidationError):
        quote.delete()
    with pytest.raises(ValidationError):
        Quote.objects.all().delete()
