"""Payment reminders: 7, 14 and 30 days past due, and what stops or pauses them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from invoicing import services as invoicing
from invoicing.models import Invoice
from oms.automation.models import EmailLog, Notification, Rule, ScheduledAction
from oms.automation.services import send_due
from tests.automation.conftest import at

pytestmark = pytest.mark.django_db

ISSUED = at(2026, 4, 1, 11)
DUE = date(2026, 5, 1)  # 30-day terms


@pytest.fixture
def invoice(order_for, finance, run_outbox):
    with time_machine.travel(ISSUED, tick=False):
        order = order_for("delivered")
        run_outbox()  # order.delivered drafts the final invoice
        draft = Invoice.objects.get(order=order, kind=Invoice.Kind.FINAL)
        invoice = invoicing.approve_invoice(draft, by=finance)
        invoice = invoicing.send_invoice(invoice, by=finance)
        run_outbox()
    assert invoice.due_date == DUE
    return invoice


def _sweep(day: date, hour: int = 9, minute: int = 1) -> int:
    with time_machine.travel(at(day.year, day.month, day.day, hour, minute), tick=False):
        return send_due()


def _reminders(invoice) -> list[str]:
    return list(
        EmailLog.objects.filter(rule__sequence=Rule.Sequence.DUNNING, order=invoice.order)
        .exclude(to__endswith="@example.com")
        .order_by("id")
        .values_list("rule__name", flat=True)
    )


def test_issuing_an_invoice_schedules_reminders_from_its_due_date(invoice):
    rows = ScheduledAction.objects.filter(subject_type="invoicing.invoice", subject_id=invoice.pk)
    assert sorted((row.due_at.date() - DUE).days for row in rows) == [7, 14, 30, 30]


def test_reminders_go_on_days_7_14_and_30(invoice, manager):
    assert _sweep(DUE + timedelta(days=6)) == 0
    assert _sweep(DUE + timedelta(days=7)) == 1
    assert _reminders(invoice) == ["Reminder day 7: polite"]
    polite = EmailLog.objects.get(rule__name="Reminder day 7: polite")
    assert polite.to == "bea@brightwell.example"
    assert invoice.number in polite.subject
    assert _sweep(DUE + timedelta(days=14)) == 1
    assert _sweep(DUE + timedelta(days=30)) == 2
    assert _reminders(invoice) == [
        "Reminder day 7: polite",
        "Reminder day 14: firmer",
        "Reminder day 30: senior contact",
    ]
    senior = EmailLog.objects.get(rule__name="Reminder day 30: senior contact")
    assert senior.to == "sam@brightwell.example"
    assert "30 days overdue" in senior.body_text
    assert Notification.objects.filter(user=manager, title__startswith="Escalation").count() == 1


def test_a_day_the_workers_were_down_is_caught_up_once(invoice):
    assert _sweep(DUE + timedelta(days=8)) == 1
    assert _sweep(DUE + timedelta(days=8, hours=1)) == 0
    assert _reminders(invoice) == ["Reminder day 7: polite"]


def test_payment_in_full_stops_reminders(invoice, finance, run_outbox):
    _sweep(DUE + timedelta(days=7))
    with time_machine.travel(at(2026, 5, 10), tick=False):
        invoicing.record_payment(invoice, by=finance, amount=invoice.gross_total)
        run_outbox()
    assert (
        set(
            ScheduledAction.objects.filter(subject_id=invoice.pk, status="pending").values_list(
                "rule__name", flat=True
            )
        )
        == set()
    )
    assert _sweep(DUE + timedelta(days=40)) == 0
    assert _reminders(invoice) == ["Reminder day 7: polite"]


def test_part_payment_keeps_chasing_the_rest(invoice, finance, run_outbox):
    with time_machine.travel(at(2026, 5, 3), tick=False):
        invoicing.record_payment(invoice, by=finance, amount=Decimal("20.00"))
        run_outbox()
    assert _sweep(DUE + timedelta(days=7)) == 1
    polite = EmailLog.objects.get(rule__name="Reminder day 7: polite")
    assert f"{invoice.gross_total - Decimal('20.00'):,.2f}" in polite.body_text


def test_dispute_stops_reminders_and_resolution_restarts_them(invoice, finance, run_outbox):
    with time_machine.travel(at(2026, 5, 3), tick=False):
        invoicing.dispute_invoice(invoice, by=finance, reason="Wrong quantity")
        run_outbox()
    assert _sweep(DUE + timedelta(days=7)) == 0
    with time_machine.travel(at(2026, 5, 12), tick=False):
        invoice.refresh_from_db()
        invoicing.resolve_dispute(invoice, by=finance, resolution="Quantity confirmed")
        run_outbox()
    assert _sweep(DUE + timedelta(days=12)) == 0
    assert _sweep(DUE + timedelta(days=14)) == 1
    assert _reminders(invoice) == ["Reminder day 14: firmer"]


def test_credit_note_stops_reminders(invoice, finance, run_outbox):
    with time_machine.travel(at(2026, 5, 3), tick=False):
        invoicing.create_credit_note(
            invoice, by=finance, reason="Goodwill", amount=Decimal("10.00")
        )
        run_outbox()
    assert _sweep(DUE + timedelta(days=30)) == 0
    assert _reminders(invoice) == []


def test_promise_to_pay_pauses_reminders_until_that_date(invoice, finance, run_outbox):
    with time_machine.travel(at(2026, 5, 5), tick=False):
        invoicing.set_promise_to_pay(invoice, by=finance, date=date(2026, 5, 20))
        run_outbox()
    assert _sweep(DUE + timedelta(days=7)) == 0  # 8 May: promised for the 20th
    assert _sweep(date(2026, 5, 20)) == 0
    assert _sweep(date(2026, 5, 21)) == 2  # promise broken: day 7 and day 14 go, once each
    assert _reminders(invoice) == ["Reminder day 7: polite", "Reminder day 14: firmer"]


def test_manager_edits_reminder_wording(invoice, manager):
    from oms.automation.services import save_rule

    rule = Rule.objects.get(name="Reminder day 7: polite")
    rule.subject_template = "Friendly nudge about {{ invoice_number }}"
    save_rule(rule, by=manager)
    _sweep(DUE + timedelta(days=7))
    assert EmailLog.objects.get(rule=rule).subject == f"Friendly nudge about {invoice.number}"
