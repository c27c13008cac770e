"""Real threads on PostgreSQL: gapless numbers under concurrent approvals, and one winner
when two people act on the same invoice at once."""

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from invoicing import services
from invoicing.models import Invoice, Payment
from oms.accounts.roles import Role
from oms.outbox.models import OutboxEvent
from orders.models import TimelineEvent
from orders.services import OrderChanged

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """Transactional tests empty every table afterwards, the role groups included."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def _race(calls: list[Callable[[], object]]) -> list[object]:
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


def test_concurrent_approvals_allocate_gapless_unique_numbers(order_at, finance):
    drafts = [services.draft_invoice_for_order(order_at("delivered")) for _ in range(20)]
    results = _race([lambda d=d: services.approve_invoice(d, by=finance) for d in drafts])
    assert all(isinstance(result, Invoice) for result in results), results
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    year = drafts[0].created_at.year
    assert numbers == [f"INV-{year}-{n:05d}" for n in range(1, 21)]
    assert OutboxEvent.objects.filter(kind="invoice.approved").count() == 20


def test_concurrent_approvals_on_one_order_number_in_turn(order_at, finance):
    order = order_at("confirmed")
    drafts = [
        services.create_milestone_invoice(order, by=finance, description=f"Stage {n}", amount=5)
        for n in range(1, 9)
    ]
    results = _race([lambda d=d: services.approve_invoice(d, by=finance) for d in drafts])
    assert all(isinstance(result, Invoice) for result in results), results
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert [int(number[-5:]) for number in numbers] == list(range(1, 9))


def test_two_people_approving_the_same_invoice_one_wins(order_at, finance, manager):
    draft = services.draft_invoice_for_order(order_at("delivered"))
    results = _race(
        [
            lambda: services.approve_invoice(draft, by=finance),
            lambda: services.approve_invoice(draft, by=manager),
        ]
    )
    winners = [r for r in results if isinstance(r, Invoice)]
    losers = [r for r in results if isinstance(r, OrderChanged)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "changed" in str(losers[0]) and "reload" in str(losers[0]).lower()
    assert Invoice.objects.get(pk=draft.pk).number.endswith("00001")
    assert OutboxEvent.objects.filter(kind="invoice.approved").count() == 1
    assert OutboxEvent.objects.filter(kind="order.invoiced").count() == 1
    assert TimelineEvent.objects.filter(to_state="invoiced").count() == 1


def test_two_payments_racing_for_the_last_amount_one_wins(order_at, finance, manager):
    draft = services.draft_invoice_for_order(order_at("delivered"))
    invoice = services.approve_invoice(draft, by=finance)
    results = _race(
        [
            lambda: services.record_payment(invoice, by=finance, amount=Decimal("120.00")),
            lambda: services.record_payment(invoice, by=manager, amount=Decimal("120.00")),
        ]
    )
    assert sum(isinstance(r, Payment) for r in results) == 1, results
    assert sum(isinstance(r, OrderChanged) for r in results) == 1, results
    assert Payment.objects.count() == 1
    assert OutboxEvent.objects.filter(kind="payment.recorded").count() == 1
    assert OutboxEvent.objects.filter(kind="order.paid").count() == 1
