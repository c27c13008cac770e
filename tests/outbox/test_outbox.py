"""The outbox: relaying through the broker, one completion row per handler, dead letters."""

import smtplib
from datetime import timedelta

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from oms.automation.models import Notification
from oms.outbox import routes
from oms.outbox.models import HandlerRun, OutboxEvent
from oms.outbox.publish import publish
from oms.outbox.relay import oldest_pending_age, relay_pending, retry_event
from oms.outbox.runner import drain
from oms.outbox.tasks import run_handler
from orders.services import confirm_order
from tests.factories import ContactFactory, place_order

pytestmark = pytest.mark.django_db


class MailServerDown(BaseEmailBackend):
    """The network edge failing: every send is refused by the mail server."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def broker_queue():
    """The real Redis queue the relay writes to, emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery")
    yield client
    client.delete("celery")


@pytest.fixture
def confirmed(sales, manager, operations):
    order = place_order(sales)
    ContactFactory(customer=order.customer)
    return confirm_order(order, by=manager)


def _event(kind="order.confirmed") -> OutboxEvent:
    return OutboxEvent.objects.get(kind=kind)


def test_publish_writes_the_event_in_the_same_transaction(sales):
    with pytest.raises(RuntimeError), transaction.atomic():
        place_order(sales)
        raise RuntimeError("the request failed")
    assert not OutboxEvent.objects.exists()


def test_publish_outside_a_transaction_is_refused(sales):
    order = place_order(sales)
    connection = transaction.get_connection()
    connection.in_atomic_block, was = False, connection.in_atomic_block
    try:
        with pytest.raises(AssertionError, match="inside a transaction"):
            publish("order.changed", subject=order)
    finally:
        connection.in_atomic_block = was


@pytest.mark.serial  # counts messages on the shared Redis queue
def test_relay_hands_each_handler_to_the_broker_and_marks_dispatched(confirmed, broker_queue):
    handled = [e for e in OutboxEvent.objects.all() if routes.handlers_for(e.kind)]
    sent = relay_pending()
    assert sent == len(handled) == 2  # order.created (webhooks) and order.confirmed
    event = _event()
    assert event.status == OutboxEvent.Status.DISPATCHED
    assert event.dispatch_count == 1
    expected = sum(
        len(routes.handlers_for(e.kind)) for e in OutboxEvent.objects.filter(status="dispatched")
    )
    assert broker_queue.llen("celery") == expected


@pytest.mark.serial  # counts messages on the shared Redis queue
def test_relay_does_not_resend_a_fresh_dispatch(confirmed, broker_queue):
    relay_pending()
    queued = broker_queue.llen("celery")
    assert relay_pending() == 0
    assert broker_queue.llen("celery") == queued


@pytest.mark.serial  # counts messages on the shared Redis queue
def test_relay_resends_a_dispatch_left_unfinished(confirmed, broker_queue):
    """The broker forgot the messages (a Redis restart): the database remembers."""
    relay_pending()
    broker_queue.delete("celery")
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER + 1)
    with time_machine.travel(later, tick=False):
        assert relay_pending() >= 1
    assert _event().dispatch_count == 2
    assert broker_queue.llen("celery") >= 1


@pytest.mark.serial  # counts messages on the shared Redis queue
def test_relay_settles_events_whose_handlers_all_finished(confirmed, broker_queue):
    drain()
    event = _event()
    assert event.status == OutboxEvent.Status.DONE
    assert relay_pending() == 0


@pytest.mark.serial  # counts messages on the shared Redis queue
def test_events_nobody_handles_are_settled_without_a_message(sales, broker_queue):
    place_order(sales)  # order.lines_changed has no handlers; order.created has one
    relay_pending()
    unhandled = OutboxEvent.objects.filter(kind="order.lines_changed")
    assert unhandled.exists()
    assert set(unhandled.values_list("status", flat=True)) == {"done"}
    assert broker_queue.llen("celery") == len(routes.handlers_for("order.created"))


def test_each_handler_completes_once(confirmed, operations):
    event = _event()
    name = routes.handler_name(routes.handlers_for(event.kind)[0])
    assert run_handler.apply(args=(event.pk, name)).get() == "done"
    assert run_handler.apply(args=(event.pk, name)).get() == "already done"
    assert HandlerRun.objects.get(event=event, handler=name).status == "done"
    assert Notification.objects.filter(user=operations).count() == 1


def test_transient_failures_retry_then_go_dead(confirmed, settings):
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.MailServerDown"
    event = _event()
    names = [routes.handler_name(handler) for handler in routes.handlers_for(event.kind)]
    for each in names:
        run_handler.apply(args=(event.pk, each))
    name = names[0]
    handler_run = HandlerRun.objects.get(event=event, handler=name)
    assert handler_run.status == HandlerRun.Status.DEAD
    assert handler_run.attempts == settings.OUTBOX_MAX_ATTEMPTS
    assert "SMTPServerDisconnected" in handler_run.last_error
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DEAD
    assert not Notification.objects.exists()  # its work rolled back with each failure


def test_a_dead_event_can_be_retried(confirmed, settings, operations):
    settings.EMAIL_BACKEND = "tests.outbox.test_outbox.MailServerDown"
    event = _event()
    name = routes.handler_name(routes.handlers_for(event.kind)[0])
    run_handler.apply(args=(event.pk, name))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with transaction.atomic():
        retry_event(event)
    drain()
    event.refresh_from_db()
    assert event.status == OutboxEvent.Status.DONE
    assert Notification.objects.filter(user=operations).count() == 1


def test_oldest_pending_age_counts_from_the_oldest_unfinished_event(confirmed):
    oldest = OutboxEvent.objects.order_by("created_at").first()
    later = oldest.created_at + timedelta(minutes=7)
    assert oldest_pending_age(later) == timedelta(minutes=7)
    drain()
    assert oldest_pending_age() is None


def test_admin_shows_the_oldest_pending_event_and_dead_ones(admin_client, confirmed):
    with time_machine.travel(timezone.now() + timedelta(minutes=12)):
        page = admin_client.get(reverse("admin:outbox_outboxevent_changelist"))
    text = page.content.decode()
    assert "Oldest pending event" in text
    assert "waiting 12 min" in text
    assert "dead 0" in text
