"""The generated business obeys the rules the services keep: every state's books agree,
timelines and outbox events match transition by transition, numbers have no gaps, and
the services carry on from the generated data as if they had written it."""

import importlib
import itertools
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from customers.models import Customer
from invoicing import services as billing
from invoicing.models import Invoice, InvoiceLine, Payment
from oms import money
from oms.automation.models import ScheduledAction
from oms.bench.generate import generate
from oms.numbering.models import Sequence
from oms.outbox.models import OutboxEvent
from orders.models import Order, OrderLine, TimelineEvent
from orders.services import TRANSITION_EVENTS, next_order_number
from quotes.models import Quote

ZERO = Decimal("0.00")
ORDERS = 2000

pytestmark = pytest.mark.django_db


def _reference_data() -> None:
    """Roles and the shipped rules, as the migrations leave them (a flush empties them)."""
    from django.apps import apps

    importlib.import_module("oms.accounts.migrations.0002_roles").create_roles(apps, None)
    importlib.import_module("oms.automation.migrations.0002_default_rules").add_rules(apps, None)


@pytest.fixture(scope="module")
def business(django_db_setup, django_db_blocker):
    """One generated business for the module (the generator commits through its own
    connection); the database is emptied and its reference data put back afterwards."""
    with django_db_blocker.unblock():
        _reference_data()
        now = timezone.now()
        stats = generate(orders=ORDERS, seed=7, now=now, log=lambda line: None)
        yield now, stats
        call_command("flush", interactive=False, verbosity=0)
        _reference_data()


def test_a_realistic_business_at_every_stage(business):
    now, _ = business
    assert Order.objects.count() == ORDERS
    assert Customer.objects.count() == ORDERS // 20
    states = Counter(Order.objects.values_list("status", flat=True))
    assert set(states) == {state.value for state in Order.Status}
    assert 0.25 < states["lost"] / ORDERS < 0.5, states
    assert 0.4 < states["paid"] / ORDERS < 0.65, states
    lines = Counter(
        OrderLine.objects.values("order").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert min(lines) == 1 and max(lines) <= 10
    events = TimelineEvent.objects.count() / ORDERS
    assert 8 <= events <= 13, events
    # A long account history for the order page, and open work in every queue.
    assert TimelineEvent.objects.values("order").annotate(n=Count("id")).filter(n__gte=50).exists()
    assert Invoice.objects.filter(status=Invoice.Status.DRAFT).exists()
    overdue = Invoice.objects.receivable().filter(due_date__lt=timezone.localdate(now))
    assert overdue.exists() and overdue.filter(disputed=True).exists()
    assert Quote.objects.awaiting_response().filter(order__status="quoted").exists()
    assert (
        Order.objects.filter(status="on_hold").exclude(hold_reason="").count() == states["on_hold"]
    )
    assert Order.objects.filter(change_requests__isnull=False).exists()
    # Two years of history, nothing in the future.
    span = Order.objects.order_by("created_at").values_list("created_at", flat=True)
    assert now - span.first() > timedelta(days=700) and span.last() <= now
    assert not TimelineEvent.objects.filter(created_at__gt=now).exists()


def test_money_adds_up_line_by_line(business):
    for line in OrderLine.objects.all():
        assert line.net_amount == money.line_net(
            line.quantity, line.unit_price, line.discount_percent
        )
        assert line.tax_amount == money.line_tax(line.net_amount, line.tax_rate)
    sums = {
        row["order"]: row
        for row in OrderLine.objects.values("order").annotate(
            net=Sum("net_amount"), tax=Sum("tax_amount")
        )
    }
    for order in Order.objects.all():
        assert order.net_total == sums[order.pk]["net"]
        assert order.tax_total == sums[order.pk]["tax"]
        assert order.gross_total == order.net_total + order.tax_total
    for quote in Quote.objects.select_related("order"):
        assert quote.gross_total == quote.order.gross_total
        assert len(quote.lines_snapshot) == quote.order.lines.count()


def test_invoices_and_payments_agree_with_the_order_states(business):
    line_sums = {
        row["invoice"]: row
        for row in InvoiceLine.objects.values("invoice").annotate(
            net=Sum("net_amount"), tax=Sum("tax_amount")
        )
    }
    paid = dict(
        Payment.objects.values("invoice")
        .annotate(total=Sum("amount"))
        .values_list("invoice", "total")
    )
    by_order = defaultdict(list)
    for invoice in Invoice.objects.all():
        by_order[invoice.order_id].append(invoice)
        assert invoice.net_total == line_sums[invoice.pk]["net"]
        assert invoice.tax_total == line_sums[invoice.pk]["tax"]
        assert invoice.gross_total == invoice.net_total + invoice.tax_total
        assert invoice.amount_paid == paid.get(invoice.pk, ZERO) <= invoice.gross_total
        assert (invoice.number is None) == (invoice.status == Invoice.Status.DRAFT)
        if invoice.is_issued:
            assert (invoice.status == Invoice.Status.PAID) == (invoice.outstanding == ZERO)
            assert invoice.due_date > invoice.issue_date
        if invoice.status == Invoice.Status.PART_PAID:
            assert invoice.amount_paid > 0
    for order in Order.objects.filter(status__in=["delivered", "invoiced", "paid"]):
        invoices = by_order[order.pk]
        billed = (
            billing.billed_gross(order)
            if order.pk % 50 == 0
            else sum((i.gross_total for i in invoices if i.is_issued), ZERO)
        )
        unsettled = [i for i in invoices if i.status in Invoice.OPEN_STATES]
        if order.status == "delivered":
            assert billed < order.gross_total and invoices[0].status == "draft"
        elif order.status == "invoiced":
            assert billed == order.gross_total and unsettled
        else:
            assert billed == order.gross_total and not unsettled
    assert not Invoice.objects.exclude(order__status__in=["delivered", "invoiced", "paid"]).exists()


def test_every_transition_has_its_timeline_row_and_outbox_event(business):
    moves = defaultdict(list)
    for order_id, source, target in (
        TimelineEvent.objects.filter(kind="transition")
        .order_by("id")
        .values_list("order_id", "from_state", "to_state")
    ):
        moves[order_id].append((source, target))
    kinds = defaultdict(Counter)
    for order_id, kind in OutboxEvent.objects.values_list("order_id", "kind"):
        kinds[order_id][kind] += 1
    transition_kinds = set(TRANSITION_EVENTS.values())
    approved = Counter(
        Invoice.objects.filter(number__isnull=False).values_list("order_id", flat=True)
    )
    payments = Counter(Payment.objects.values_list("invoice__order_id", flat=True))
    for order_id, status in Order.objects.values_list("id", "status"):
        history = moves[order_id]
        assert history[0] == ("", "enquiry")
        assert history[-1][1] == status
        for earlier, later in itertools.pairwise(history):
            assert later[0] == earlier[1], history
        counted = kinds[order_id]
        assert sum(n for kind, n in counted.items() if kind in transition_kinds) == len(history) - 1
        assert counted["invoice.approved"] == approved[order_id]
        assert counted["payment.recorded"] == payments[order_id]
    assert not OutboxEvent.objects.exclude(status="done").exists()
    # The timeline's transitions run forward in time.
    times = defaultdict(list)
    for order_id, at in (
        TimelineEvent.objects.filter(kind="transition")
        .order_by("id")
        .values_list("order_id", "created_at")
    ):
        times[order_id].append(at)
    assert all(t == sorted(t) for t in times.values())


def test_numbers_are_gapless_and_the_services_carry_on(business, finance):
    for series, numbers in (
        ("ORD", Order.objects.values_list("number", flat=True)),
        ("INV", Invoice.objects.filter(number__isnull=False).values_list("number", flat=True)),
    ):
        by_year = defaultdict(list)
        for number in numbers:
            prefix, year, serial = number.split("-")
            assert prefix == series
            by_year[int(year)].append(int(serial))
        assert len(by_year) >= 2  # two years of history
        for year, serials in by_year.items():
            assert sorted(serials) == list(range(1, len(serials) + 1))
            assert Sequence.objects.get(series=series, year=year).last == len(serials)
    # The next order number and a newly approved invoice follow on without a gap.
    year = timezone.localdate().year
    last_order = Sequence.objects.get(series="ORD", year=year).last
    from django.db import transaction

    with transaction.atomic():
        assert next_order_number() == f"ORD-{year}-{last_order + 1:05d}"
    draft = Invoice.objects.filter(status="draft", order__status="delivered").first()
    last_invoice = (
        Sequence.objects.filter(series="INV", year=year).values_list("last", flat=True).first() or 0
    )
    issued = billing.approve_invoice(draft, by=finance)
    assert issued.number == f"INV-{year}-{last_invoice + 1:05d}"
    assert Order.objects.get(pk=draft.order_id).status == "invoiced"


def test_pending_follow_ups_and_reminders_only_for_live_quotes_and_open_invoices(business):
    now, _ = business
    pending = ScheduledAction.objects.filter(status="pending")
    assert pending.exists()
    quote_ids = set(
        pending.filter(subject_type="quotes.quote").values_list("subject_id", flat=True)
    )
    assert set(Quote.objects.filter(pk__in=quote_ids).values_list("status", flat=True)) == {"sent"}
    invoice_ids = set(
        pending.filter(subject_type="invoicing.invoice").values_list("subject_id", flat=True)
    )
    for invoice in Invoice.objects.filter(pk__in=invoice_ids):
        assert invoice.status in Invoice.OPEN_STATES and not invoice.disputed
    # Nothing left behind but the last half hour's steps, which the sweeper takes next.
    assert not pending.filter(due_at__lt=now - timedelta(hours=1)).exists()
    assert ScheduledAction.objects.filter(status="sent", fired_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_makes_the_same_business(business):
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)

    def fingerprint(after: int) -> list:
        return list(
            Order.objects.filter(pk__gt=after)
            .order_by("pk")
            .values_list("status", "gross_total", "created_at", "status_changed_at")
        )

    def last_id() -> int:
        return Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    before = last_id()
    generate(orders=150, seed=3, now=now, log=lambda line: None)
    first = fingerprint(before)
    between = last_id()
    generate(orders=150, seed=3, now=now, log=lambda line: None)
    assert len(first) == 150
    assert fingerprint(between) == first
