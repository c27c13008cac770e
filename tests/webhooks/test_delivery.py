"""Fan-out, signed delivery to a real receiver, retries, pausing and resuming."""

import json
import socket
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from oms.automation.models import Notification
from oms.outbox import routes
from oms.outbox.models import OutboxEvent
from oms.outbox.runner import drain, run
from oms.webhooks import events
from oms.webhooks.handlers import queue_webhook_deliveries
from oms.webhooks.models import WebhookDelivery, WebhookEndpoint
from oms.webhooks.services import (
    create_endpoint,
    pause_endpoint,
    resume_endpoint,
    rotate_secret,
    send_due,
    send_ping,
)
from orders.services import confirm_order
from tests.factories import place_order
from tests.webhooks.conftest import verify

pytestmark = pytest.mark.django_db


def _confirm(sales, manager):
    order = place_order(sales)
    order = confirm_order(order, by=manager)
    drain()
    return order


def _delivery(event_type="order.confirmed") -> WebhookDelivery:
    return WebhookDelivery.objects.get(event_type=event_type)


def test_confirmed_order_reaches_the_receiver_signed(receiver, endpoint, sales, manager):
    order = _confirm(sales, manager)
    assert send_due() == 2  # order.created and order.confirmed
    assert [r["signed"] for r in receiver.requests] == [True, True]
    [confirmed] = [r for r in receiver.requests if r["headers"]["X-OMS-Event"] == "order.confirmed"]
    headers = confirmed["headers"]
    payload = json.loads(confirmed["body"])
    delivery = _delivery()
    assert headers["X-OMS-Delivery"] == str(delivery.uuid)
    assert headers["X-OMS-Signature"].startswith(f"t={headers['X-OMS-Timestamp']},v1=")
    assert payload["id"] == str(delivery.event_id)
    assert payload["type"] == "order.confirmed"
    assert payload["created"].startswith(str(timezone.localdate().year))
    data = payload["data"]
    assert data["order"]["number"] == order.number
    assert data["order"]["state"] == "confirmed"
    assert data["order"]["customer"]["name"] == order.customer.name
    assert data["order"]["gross_total"] == str(order.gross_total) == "120.00"
    assert (data["from_state"], data["to_state"]) == ("enquiry", "confirmed")
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    attempt = delivery.log.get()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)
    assert json.loads(attempt.response_excerpt) == {"ok": True}


def test_the_readme_verifier_refuses_a_replay_or_a_tampered_body(
    receiver, endpoint, sales, manager
):
    _confirm(sales, manager)
    send_due()
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    assert verify(endpoint.secret, headers, body)
    with time_machine.travel(int(headers["X-OMS-Timestamp"]) + 301):
        assert not verify(endpoint.secret, headers, body)  # replayed later
    assert not verify(endpoint.secret, headers, body.replace(b"confirmed", b"cancelled"))
    assert not verify("whsec_someone-else", headers, body)


def test_a_rotated_secret_signs_from_the_next_attempt(receiver, endpoint, sales, manager):
    old = endpoint.secret
    endpoint = rotate_secret(endpoint, by=manager)
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")
    receiver.secret = endpoint.secret
    _confirm(sales, manager)
    send_due()
    assert all(r["signed"] for r in receiver.requests)
    first = receiver.requests[0]
    assert not verify(old, first["headers"], first["body"])


def test_with_an_overlap_both_secrets_sign_for_a_day(receiver, endpoint, manager):
    old = endpoint.secret
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        endpoint = rotate_secret(endpoint, by=manager, overlap=True)
        receiver.secret = endpoint.secret
        send_ping(endpoint, by=manager)
        send_due()
        during = receiver.requests[-1]
        assert during["headers"]["X-OMS-Signature"].count("v1=") == 2
        assert verify(endpoint.secret, during["headers"], during["body"])
        assert verify(old, during["headers"], during["body"])  # a receiver not yet switched
        clock.move_to(start + timedelta(hours=24, minutes=1))
        send_ping(endpoint, by=manager)
        send_due()
        after = receiver.requests[-1]
        assert after["headers"]["X-OMS-Signature"].count("v1=") == 1
        assert verify(endpoint.secret, after["headers"], after["body"])
        assert not verify(old, after["headers"], after["body"])
    assert all(request["signed"] for request in receiver.requests)


def test_an_endpoint_not_subscribed_gets_nothing(receiver, endpoint, sales, manager):
    other = create_endpoint(
        url=receiver.url, description="Accounts", event_types=["invoice.sent"], by=manager
    )
    _confirm(sales, manager)
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2


def test_fan_out_is_idempotent(receiver, endpoint, sales, manager):
    _confirm(sales, manager)
    event = OutboxEvent.objects.get(kind="order.confirmed")
    assert queue_webhook_deliveries(event) == 0  # the handler ran in drain() already
    name = routes.handler_name(queue_webhook_deliveries)
    assert run(event.pk, name) == "already done"
    assert WebhookDelivery.objects.filter(source_event=event).count() == 1
    send_due()
    assert send_due() == 0
    assert len(receiver.events) == 2


def test_an_event_nobody_listens_to_costs_one_query(sales, manager, django_assert_num_queries):
    create_endpoint(
        url="https://a.example.com", description="", event_types=["quote.sent"], by=manager
    )
    confirm_order(place_order(sales), by=manager)
    event = OutboxEvent.objects.get(kind="order.confirmed")
    with django_assert_num_queries(1):
        assert queue_webhook_deliveries(event) == 0


def test_every_published_kind_reaches_the_fan_out():
    for kind in events.SOURCES:
        assert queue_webhook_deliveries in routes.handlers_for(kind), kind
    assert set(events.BUILDERS) == events.EVENT_TYPE_NAMES


def test_failures_retry_with_growing_jittered_backoff(receiver, endpoint, sales, manager, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.answers = [500, 503]  # the receiver is down twice, then recovers
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        _confirm(sales, manager)
        WebhookDelivery.objects.exclude(event_type="order.confirmed").delete()
        assert send_due() == 1
        delivery = _delivery()
        assert delivery.status == WebhookDelivery.Status.PENDING
        first_wait = delivery.next_attempt_at - start
        assert timedelta(seconds=15) <= first_wait <= timedelta(seconds=31)
        assert send_due() == 0  # not due yet
        clock.move_to(delivery.next_attempt_at + timedelta(seconds=1))
        assert send_due() == 1
        delivery.refresh_from_db()
        second_wait = delivery.next_attempt_at - timezone.now()
        assert timedelta(seconds=29) <= second_wait <= timedelta(seconds=61)
        clock.move_to(delivery.next_attempt_at + timedelta(seconds=1))
        assert send_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert [(a.number, a.status_code, a.succeeded) for a in delivery.log.all()] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert delivery.log.first().error == "HTTP 500"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_delivery_failing_for_a_day_fails_and_pauses_the_endpoint(
    receiver, endpoint, sales, manager, settings
):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 1000  # only running out of time pauses here
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3 * 60 * 60
    settings.WEBHOOK_RETRY_HOURS = 24
    receiver.always = 500
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        _confirm(sales, manager)
        WebhookDelivery.objects.exclude(event_type="order.confirmed").delete()
        delivery = _delivery()
        waits = []
        while delivery.status == WebhookDelivery.Status.PENDING:
            clock.move_to(delivery.next_attempt_at + timedelta(seconds=1))
            before = timezone.now()
            send_due()
            delivery.refresh_from_db()
            waits.append(delivery.next_attempt_at - before)
    assert delivery.status == WebhookDelivery.Status.FAILED
    last = delivery.log.last()
    assert last.started_at >= start + timedelta(hours=24)
    assert last.started_at <= start + timedelta(hours=24, minutes=1)
    # Doubling from 30 s (with jitter), at most 3 h apart: 17 to 25 tries in a day.
    assert 16 <= delivery.attempts <= 26
    assert waits[3] > waits[0]
    endpoint.refresh_from_db()
    assert endpoint.status == WebhookEndpoint.Status.PAUSED
    assert "24 hours" in endpoint.paused_reason


def test_consecutive_failures_pause_the_endpoint_and_tell_its_owner(
    receiver, endpoint, sales, manager, settings
):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 3
    receiver.always = 500
    for _ in range(2):
        _confirm(sales, manager)  # four deliveries: two created, two confirmed
    assert send_due() == 3  # the third failure in a row pauses it; the fourth waits
    endpoint.refresh_from_db()
    assert endpoint.status == WebhookEndpoint.Status.PAUSED
    assert endpoint.paused_reason.startswith("3 delivery attempts in a row failed")
    statuses = sorted(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses == ["paused"] * 4
    notification = Notification.objects.get(user=manager)
    assert "paused" in notification.title
    assert notification.url == f"/webhooks/{endpoint.pk}/"
    [email] = mail.outbox
    assert email.to == [manager.email]
    assert endpoint.url in email.body
    assert send_due() == 0  # a paused endpoint is not called


def test_resume_sends_what_was_held_with_a_fresh_retry_window(
    receiver, endpoint, sales, manager, settings
):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 1
    receiver.always = 500
    _confirm(sales, manager)
    send_due()
    endpoint.refresh_from_db()
    assert endpoint.status == WebhookEndpoint.Status.PAUSED
    _confirm(sales, manager)  # events keep arriving while paused
    assert WebhookDelivery.objects.filter(status="paused").count() == 4
    receiver.always = None  # fixed
    later = timezone.now() + timedelta(days=3)
    with time_machine.travel(later, tick=True):
        endpoint = resume_endpoint(endpoint, by=manager)
        assert endpoint.consecutive_failures == 0
        for delivery in WebhookDelivery.objects.all():
            assert delivery.status == WebhookDelivery.Status.PENDING
            assert delivery.give_up_at > later + timedelta(hours=23)
        assert send_due() == 4
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert len([r for r in receiver.requests if r["signed"]]) == 5


def test_a_manual_pause_holds_events_without_telling_anyone(receiver, endpoint, sales, manager):
    pause_endpoint(endpoint, by=manager)
    _confirm(sales, manager)
    assert send_due() == 0
    assert receiver.requests == []
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"paused"}
    assert not Notification.objects.exists() and not mail.outbox


def test_an_unreachable_receiver_is_logged_as_an_error(manager, sales):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    create_endpoint(
        url=f"http://127.0.0.1:{port}/hooks",
        description="Down",
        event_types=["order.confirmed"],
        by=manager,
    )
    _confirm(sales, manager)
    assert send_due() == 1
    delivery = _delivery()
    attempt = delivery.log.get()
    assert attempt.status_code is None and not attempt.succeeded
    assert "ConnectionError" in attempt.error
    assert delivery.status == WebhookDelivery.Status.PENDING


def test_a_name_resolving_inside_the_network_is_not_called(
    receiver, endpoint, sales, manager, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False  # say the URL's name now resolves inside
    _confirm(sales, manager)
    assert send_due() == 2
    assert receiver.requests == []
    attempt = _delivery().log.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("PrivateNetwork: 127.0.0.1 resolves to 127.0.0.1")


def test_payments_become_payment_received_then_invoice_paid(receiver, manager):
    from invoicing.services import approve_invoice, draft_invoice_for_order, record_payment
    from tests.factories import advance_order

    endpoint = create_endpoint(
        url=receiver.url,
        description="Books",
        event_types=["payment.received", "invoice.paid"],
        by=manager,
    )
    receiver.secret = endpoint.secret
    order = advance_order(place_order(manager), "delivered", by=manager)
    invoice = approve_invoice(draft_invoice_for_order(order, by=manager), by=manager)
    record_payment(invoice, by=manager, amount=Decimal("20.00"))
    invoice.refresh_from_db()
    record_payment(invoice, by=manager, amount=invoice.gross_total - Decimal("20.00"))
    drain()
    send_due()
    types = sorted(event["type"] for event in receiver.events)
    assert types == ["invoice.paid", "payment.received", "payment.received"]
    paid = next(e for e in receiver.events if e["type"] == "invoice.paid")["data"]
    assert paid["invoice"]["number"] == invoice.number
    assert paid["invoice"]["state"] == "paid"
    assert paid["invoice"]["outstanding"] == "0.00"
    amounts = sorted(
        e["data"]["payment"]["amount"] for e in receiver.events if e["type"] == "payment.received"
    )
    assert amounts == ["100.00", "20.00"]
