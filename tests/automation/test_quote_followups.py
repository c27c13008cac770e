"""The quote follow-up sequence: days 3, 7 and 14, and everything that stops it."""

from datetime import timedelta

import pytest
import time_machine

from oms.automation import queries
from oms.automation.models import EmailLog, Notification, QueueFlag, Rule, ScheduledAction
from oms.automation.services import save_rule, send_due
from orders.models import Order, TimelineEvent
from orders.services import confirm_order, lose_order
from quotes import services as quotes
from tests.automation.conftest import at
from tests.factories import send_new_quote

pytestmark = pytest.mark.django_db

SENT = at(2026, 3, 2, 10)


def _followup_emails(quote) -> list[EmailLog]:
    return list(
        EmailLog.objects.filter(
            rule__sequence=Rule.Sequence.QUOTE_FOLLOWUP,
            order=quote.order,
            to__endswith="@brightwell.example",
        ).order_by("id")
    )


@pytest.fixture
def sent_quote(order_for, sales, run_outbox):
    with time_machine.travel(SENT, tick=False):
        order = order_for("enquiry")
        quote = send_new_quote(order, sales)
        run_outbox()
    return quote


def _sweep(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return send_due()


def test_sending_a_quote_schedules_the_sequence(sent_quote):
    rows = ScheduledAction.objects.filter(subject_type="quotes.quote", subject_id=sent_quote.pk)
    days = sorted((row.due_at - sent_quote.sent_at).days for row in rows)
    assert days == [3, 3, 7, 7, 14, 14]
    assert all(row.status == ScheduledAction.Status.PENDING for row in rows)


def test_nothing_is_sent_before_day_three(sent_quote):
    assert _sweep(SENT + timedelta(days=2, hours=23)) == 0
    assert _followup_emails(sent_quote) == []


def test_day_three_checks_in_with_customer_and_prompts_salesperson(sent_quote, sales, mailoutbox):
    before = len(mailoutbox)
    assert _sweep(SENT + timedelta(days=3, minutes=1)) == 2
    [email] = _followup_emails(sent_quote)
    assert email.to == "pat@brightwell.example"
    assert email.subject == f"Did you receive quote {sent_quote.reference}?"
    assert "Pat Primary" in email.body_text
    note = Notification.objects.get(user=sales)
    assert note.title == f"Follow up quote {sent_quote.reference} for Brightwell Ltd"
    # the customer email plus the salesperson's copy (they want notifications by email)
    assert {m.to[0] for m in mailoutbox[before:]} == {"pat@brightwell.example", sales.email}


def test_each_step_fires_on_its_day_once(sent_quote, manager):
    assert _sweep(SENT + timedelta(days=3, minutes=1)) == 2
    assert _sweep(SENT + timedelta(days=3, minutes=2)) == 0
    assert _sweep(SENT + timedelta(days=7, minutes=1)) == 2
    assert Notification.objects.filter(user=manager, title__contains="unanswered").count() == 1
    assert _sweep(SENT + timedelta(days=14, minutes=1)) == 2
    subjects = [e.subject for e in _followup_emails(sent_quote)]
    assert subjects == [
        f"Did you receive quote {sent_quote.reference}?",
        f"Quote {sent_quote.reference}: what is included",
        f"Shall we go ahead with quote {sent_quote.reference}?",
    ]


def test_day_fourteen_flags_decision_needed_in_the_sales_queue(sent_quote, sales):
    _sweep(SENT + timedelta(days=13))
    assert list(queries.quotes_needing_decision(sales)) == []
    _sweep(SENT + timedelta(days=14, minutes=1))
    assert QueueFlag.objects.filter(subject_id=sent_quote.pk, kind="decision_needed").exists()
    assert list(queries.quotes_needing_decision(sales)) == [sent_quote]


def test_backlog_after_an_outage_is_caught_up_once(sent_quote):
    """Beat and workers were down from day 2 to day 15: every step goes out once."""
    assert _sweep(SENT + timedelta(days=15)) == 6
    assert _sweep(SENT + timedelta(days=15, minutes=1)) == 0
    assert len(_followup_emails(sent_quote)) == 3


def test_every_step_is_written_to_the_order_timeline(sent_quote):
    _sweep(SENT + timedelta(days=3, minutes=1))
    entries = TimelineEvent.objects.filter(order=sent_quote.order, kind="communication")
    by_rule = {e.automation: e for e in entries}
    email = by_rule["Quote day 3: check-in email"]
    assert email.details["recipients"] == ["pat@brightwell.example"]
    assert email.details["subject"] == f"Did you receive quote {sent_quote.reference}?"
    assert "Pat Primary" in email.details["body"]
    assert "Quote day 3: prompt salesperson" in by_rule


def test_acceptance_stops_the_sequence(sent_quote, run_outbox):
    with time_machine.travel(SENT + timedelta(days=1), tick=False):
        quotes.accept_quote(sent_quote, name="Pat Primary")
        run_outbox()
    statuses = set(
        ScheduledAction.objects.filter(subject_id=sent_quote.pk).values_list("status", flat=True)
    )
    assert statuses == {ScheduledAction.Status.CANCELLED}
    assert _sweep(SENT + timedelta(days=20)) == 0


def test_acceptance_stops_it_even_before_the_event_is_handled(sent_quote):
    with time_machine.travel(SENT + timedelta(days=1), tick=False):
        quotes.accept_quote(sent_quote, name="Pat Primary")
    assert _sweep(SENT + timedelta(days=3, minutes=1)) == 0
    assert _followup_emails(sent_quote) == []


def test_decline_stops_the_sequence(sent_quote, run_outbox):
    with time_machine.travel(SENT + timedelta(days=4), tick=False):
        quotes.decline_quote(sent_quote, reason="Too dear")
        run_outbox()
    assert _sweep(SENT + timedelta(days=20)) == 0


def test_confirming_the_order_without_the_quote_stops_the_sequence(sent_quote, sales):
    with time_machine.travel(SENT + timedelta(days=1), tick=False):
        confirm_order(Order.objects.get(pk=sent_quote.order_id), by=sales)
    assert _sweep(SENT + timedelta(days=20)) == 0
    assert _followup_emails(sent_quote) == []


def test_lost_order_stops_the_sequence(sent_quote, sales, run_outbox):
    with time_machine.travel(SENT + timedelta(days=4), tick=False):
        lose_order(Order.objects.get(pk=sent_quote.order_id), by=sales, reason="Went elsewhere")
        run_outbox()
    assert _sweep(SENT + timedelta(days=20)) == 0


def test_a_new_version_supersedes_the_old_sequence(sent_quote, sales, run_outbox):
    with time_machine.travel(SENT + timedelta(days=5), tick=False):
        revised = send_new_quote(Order.objects.get(pk=sent_quote.order_id), sales)
        run_outbox()
    old = ScheduledAction.objects.filter(subject_id=sent_quote.pk)
    assert set(old.values_list("status", flat=True)) == {ScheduledAction.Status.CANCELLED}
    new = ScheduledAction.objects.filter(subject_id=revised.pk, status="pending")
    assert new.count() == 6
    assert _sweep(SENT + timedelta(days=7, minutes=1)) == 0  # day 2 of the new version
    assert _sweep(SENT + timedelta(days=8, minutes=1)) == 2  # day 3 of the new version


def test_pause_holds_steps_and_resume_carries_on(sent_quote, sales, run_outbox):
    with time_machine.travel(SENT + timedelta(days=2), tick=False):
        quotes.pause_quote_followups(sent_quote, by=sales)
        run_outbox()
    assert _sweep(SENT + timedelta(days=6)) == 0
    with time_machine.travel(SENT + timedelta(days=6), tick=False):
        quotes.resume_quote_followups(sent_quote, by=sales)
        run_outbox()
    # paused for four days: day 3's steps move to day 7
    assert _sweep(SENT + timedelta(days=6, hours=23)) == 0
    assert _sweep(SENT + timedelta(days=7, minutes=1)) == 2


def test_expiry_stops_the_sequence_and_tells_the_owner(order_for, sales, run_outbox):
    from oms.automation.services import expire_due_quotes

    with time_machine.travel(SENT, tick=False):
        quote = send_new_quote(order_for("enquiry"), sales, valid_until=SENT.date() + timedelta(5))
        run_outbox()
    with time_machine.travel(SENT + timedelta(days=5), tick=False):
        assert expire_due_quotes() == 0  # still valid on its last day
    with time_machine.travel(SENT + timedelta(days=6), tick=False):
        assert expire_due_quotes() == 1
        run_outbox()
    quote.refresh_from_db()
    assert quote.status == "expired"
    assert Notification.objects.filter(user=sales, title=f"Quote {quote.reference} expired")
    assert _sweep(SENT + timedelta(days=20)) == 0


def test_expiry_leaves_the_quote_of_an_order_confirmed_without_it(order_for, sales):
    from oms.automation.services import expire_due_quotes

    with time_machine.travel(SENT, tick=False):
        quote = send_new_quote(order_for("enquiry"), sales, valid_until=SENT.date() + timedelta(5))
        confirm_order(Order.objects.get(pk=quote.order_id), by=sales)
    with time_machine.travel(SENT + timedelta(days=6), tick=False):
        assert expire_due_quotes() == 0
    quote.refresh_from_db()
    assert quote.status == "sent"
    assert not TimelineEvent.objects.filter(order_id=quote.order_id, automation="quote expiry")


def test_manager_changes_days_and_pending_steps_move(sent_quote, manager):
    rule = Rule.objects.get(name="Quote day 3: check-in email")
    rule.offset_days = 5
    save_rule(rule, by=manager)
    assert _sweep(SENT + timedelta(days=3, minutes=1)) == 1  # only the salesperson prompt
    assert _followup_emails(sent_quote) == []
    assert _sweep(SENT + timedelta(days=5, minutes=1)) == 1
    assert len(_followup_emails(sent_quote)) == 1


def test_switched_off_rule_sends_nothing(sent_quote, manager):
    from oms.automation.services import set_rule_enabled

    rule = Rule.objects.get(name="Quote day 3: check-in email")
    set_rule_enabled(rule, by=manager, enabled=False)
    assert _sweep(SENT + timedelta(days=3, minutes=1)) == 1
    assert _followup_emails(sent_quote) == []
    row = ScheduledAction.objects.get(rule=rule, subject_id=sent_quote.pk)
    assert row.status == ScheduledAction.Status.CANCELLED
    assert "switched off" in row.note


def test_sweeping_the_same_moment_twice_sends_once(sent_quote, mailoutbox):
    _sweep(SENT + timedelta(days=3, minutes=1))
    count = len(mailoutbox)
    _sweep(SENT + timedelta(days=3, minutes=1))
    assert len(mailoutbox) == count
