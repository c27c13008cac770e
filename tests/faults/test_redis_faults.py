"""Faults with real processes: Redis stopped and restarted without saving, a worker killed
mid-task, tasks delivered twice. Every effect happens exactly once."""

import json
import os
import signal
import time
from datetime import timedelta

import psycopg
import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from oms.automation.models import EmailLog, Notification, Rule
from oms.outbox import routes
from oms.outbox.models import HandlerRun, OutboxEvent
from oms.outbox.publish import publish
from oms.outbox.relay import relay_pending
from orders.models import Order, TimelineEvent
from orders.services import confirm_order
from tests.factories import ContactFactory, place_order
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles_and_rules(reference_data):
    """Every test here runs with the roles and rules the migrations ship."""


OPS_RULE = "Order confirmed: tell operations"


@pytest.fixture
def enquiry(sales):
    order = place_order(sales)
    ContactFactory(customer=order.customer, email="buyer@customer.example")
    return order


def _queued(broker, task: str) -> int:
    messages = broker.client().lrange("celery", 0, -1)
    return sum(json.loads(message)["headers"]["task"] == task for message in messages)


def _ops_effects(operations, order=None) -> tuple[int, int]:
    notes = Notification.objects.filter(user=operations, rule__name=OPS_RULE)
    emails = EmailLog.objects.filter(to=operations.email, rule__name=OPS_RULE)
    if order is not None:
        notes, emails = notes.filter(order=order), emails.filter(order=order)
    return notes.count(), emails.count()


def test_confirmed_while_redis_is_down_is_notified_once_after_restart(
    broker, worker, enquiry, manager, operations
):
    running = worker()
    broker.stop()

    started = time.monotonic()
    order = confirm_order(enquiry, by=manager)  # the request: wake() finds no broker
    assert time.monotonic() - started < 5
    assert Order.objects.get(pk=order.pk).status == "confirmed"
    assert OutboxEvent.objects.get(kind="order.confirmed").status == "pending"

    broker.start()
    wait_for(
        lambda: _ops_effects(operations) == (1, 1), timeout=60, what="the operations notification"
    )
    time.sleep(5)  # longer than the re-dispatch age: nothing is sent a second time
    assert _ops_effects(operations) == (1, 1)
    assert running.emails_to(operations.email) == 1
    assert running.alive


def test_the_same_worker_resumes_consuming_after_a_redis_restart(
    broker, worker, sales, manager, operations
):
    running = worker()
    pid = running.process.pid
    first = confirm_order(place_order(sales), by=manager)
    wait_for(lambda: _ops_effects(operations, first) == (1, 1), timeout=30, what="first")

    broker.stop()
    broker.start()
    second = confirm_order(place_order(sales), by=manager)
    wait_for(lambda: _ops_effects(operations, second) == (1, 1), timeout=60, what="second")
    assert running.alive and running.process.pid == pid


def test_a_thousand_events_survive_redis_forgetting_its_queue(
    broker, worker, enquiry, manager, operations
):
    order = confirm_order(enquiry, by=manager)
    Rule.objects.exclude(name=OPS_RULE).update(enabled=False)
    operations.notify_by_email = False
    operations.save()
    with transaction.atomic():
        for _ in range(999):
            publish("order.confirmed", subject=order, from_state="quoted", to_state="confirmed")
    assert OutboxEvent.objects.filter(kind="order.confirmed").count() == 1000

    relay_pending()  # all 1,000 handed to Redis, no worker running yet
    handlers = sum(len(routes.handlers_for(event.kind)) for event in OutboxEvent.objects.all())
    assert _queued(broker, "oms.outbox.tasks.run_handler") == handlers
    broker.stop()  # SHUTDOWN NOSAVE: the queue is gone
    broker.start()
    assert broker.client().llen("celery") == 0

    worker(concurrency=3, OUTBOX_REDISPATCH_AFTER="30")
    wait_for(
        lambda: (
            not OutboxEvent.objects.filter(kind="order.confirmed").exclude(status="done").exists()
        ),
        timeout=300,  # about 40 s on an idle two-core machine
        what="all 1,000 events",
        every=1,
    )
    assert Notification.objects.filter(user=operations).count() == 1000
    ops_runs = HandlerRun.objects.filter(
        status="done", event__kind="order.confirmed", handler__endswith="apply_event_rules"
    )
    assert ops_runs.count() == 1000
    assert TimelineEvent.objects.filter(order=order, automation=OPS_RULE).count() == 1000


def _claim_email_key(key: str):
    """Another session inserts, uncommitted, the email log row the handler is about to
    write: the handler's insert of the same unique key waits there, mid-task, with nothing
    sent yet. .rollback() lets it through."""
    db = connection.settings_dict
    session = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
    )
    session.execute(
        'INSERT INTO automation_emaillog (key, "to", subject, body_text, body_html, status,'
        " created_at) VALUES (%s, 'x@example.com', 'x', 'x', '', 'sent', now())",
        [key],
    )
    return session


def test_a_worker_killed_mid_task_sends_one_email(broker, worker, enquiry, manager, operations):
    order = confirm_order(enquiry, by=manager)  # queued in Redis; no worker yet
    event = OutboxEvent.objects.get(kind="order.confirmed")
    rule = Rule.objects.get(name=OPS_RULE)
    blocker = _claim_email_key(f"e{event.pk}:r{rule.pk}:u{operations.pk}:email")
    try:
        running = worker(concurrency=1)
        handler_run = wait_for(
            lambda: (
                HandlerRun.objects.filter(event=event, attempts=1).exclude(worker_pid=None).first()
            ),
            timeout=30,
            what="the handler to start",
        )
        time.sleep(1.5)  # now waiting on the email log insert, part-way through its work
        assert running.emails_to(operations.email) == 0
        os.kill(handler_run.worker_pid, signal.SIGKILL)
        time.sleep(1)
    finally:
        blocker.rollback()
        blocker.close()
    wait_for(lambda: _ops_effects(operations) == (1, 1), timeout=60, what="the retried task")
    time.sleep(4)
    assert _ops_effects(operations) == (1, 1)
    assert running.emails_to(operations.email) == 1
    assert running.emails_to("buyer@customer.example") == 1
    assert EmailLog.objects.filter(order=order, to="buyer@customer.example").count() == 1
    assert HandlerRun.objects.get(pk=handler_run.pk).attempts == 2
    assert running.alive


def test_every_task_run_twice_has_one_effect(broker, worker, sales, manager, operations):
    """run_handler, relay_outbox, send_due_followups and expire_quotes, each delivered twice."""
    from celery import Celery

    from oms.outbox.runner import drain
    from quotes.models import Quote
    from tests.factories import send_new_quote

    def order_with_contact():
        order = place_order(sales)
        ContactFactory(customer=order.customer)
        return order

    now = timezone.now()
    with time_machine.travel(now - timedelta(days=4), tick=False):
        following = send_new_quote(order_with_contact(), sales)
    with time_machine.travel(now - timedelta(days=10), tick=False):
        lapsing = send_new_quote(
            order_with_contact(), sales, valid_until=(now - timedelta(days=8)).date()
        )
    drain()  # follow-ups scheduled: day 3 of one quote and days 3 and 7 of the other are due
    order = confirm_order(place_order(sales), by=manager)
    event = OutboxEvent.objects.get(kind="order.confirmed")
    name = "oms.automation.handlers.apply_event_rules"

    # A bare client, not the current app: shared tasks must keep resolving to oms's app.
    client = Celery(broker=broker.url, set_as_current=False)
    for _ in range(2):
        client.send_task("oms.outbox.tasks.run_handler", args=[event.pk, name])
        client.send_task("oms.outbox.tasks.relay_outbox")
        client.send_task("oms.automation.tasks.send_due_followups")
        client.send_task("oms.automation.tasks.expire_quotes")
    worker(concurrency=2)

    def settled() -> bool:
        expired_told = Notification.objects.filter(rule__name="Quote expired: tell the owner")
        return _ops_effects(operations, order) == (1, 1) and expired_told.exists()

    wait_for(settled, timeout=60, what="every effect")
    wait_for(lambda: broker.client().llen("celery") == 0, timeout=30, what="an empty queue")
    time.sleep(4)
    assert _ops_effects(operations, order) == (1, 1)
    assert HandlerRun.objects.get(event=event, handler=name).status == "done"
    checkins = EmailLog.objects.filter(rule__name="Quote day 3: check-in email")
    assert sorted(checkins.values_list("order_id", flat=True)) == sorted(
        [following.order_id, lapsing.order_id]
    )
    # the lapsing quote's day-7 step went out once, or was stopped by its expiry
    assert EmailLog.objects.filter(rule__name="Quote day 7: value email").count() <= 1
    assert Quote.objects.get(pk=lapsing.pk).status == "expired"
    assert OutboxEvent.objects.filter(kind="quote.expired").count() == 1
    assert Notification.objects.filter(rule__name="Quote expired: tell the owner").count() == 1
