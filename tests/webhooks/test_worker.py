"""The whole path with real processes: a service publishes, the relay and the fan-out run
in a Celery worker (with its beat), and the sweeper POSTs to a receiver on 127.0.0.1."""

import pytest
from django.conf import settings

from oms.webhooks.models import WebhookDelivery, WebhookEndpoint
from oms.webhooks.services import create_endpoint
from orders.services import confirm_order
from tests.factories import place_order
from tests.faults.conftest import Worker, reference_data, wait_for  # noqa: F401

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]


class _MakeTestBroker:
    url = settings.CELERY_BROKER_URL
    port = "make-test-webhooks"


def _worker(tmp_path, **env: str) -> Worker:
    worker = Worker(
        _MakeTestBroker(),
        tmp_path,
        WEBHOOK_SWEEP_INTERVAL="1",
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="1",  # the receiver is on 127.0.0.1
        **env,
    )
    worker.start(concurrency=2)
    return worker


def test_a_worker_delivers_a_confirmation_signed(tmp_path, receiver, sales, manager):
    endpoint = create_endpoint(
        url=receiver.url, description="Scheduler", event_types=["order.confirmed"], by=manager
    )
    receiver.secret = endpoint.secret
    worker = _worker(tmp_path)
    try:
        order = confirm_order(place_order(sales), by=manager)
        wait_for(lambda: receiver.requests, timeout=60, what="the worker to POST the event")
        wait_for(
            lambda: WebhookDelivery.objects.filter(status="delivered").exists(),
            timeout=30,
            what="the delivery to be logged",
        )
    finally:
        worker.stop()
    [request] = receiver.requests
    assert request["signed"]
    assert receiver.events[0]["data"]["order"]["number"] == order.number


def test_a_worker_retries_then_pauses_a_failing_endpoint(tmp_path, receiver, sales, manager):
    endpoint = create_endpoint(
        url=receiver.url, description="Shop", event_types=["order.confirmed"], by=manager
    )
    receiver.secret = endpoint.secret
    receiver.always = 500
    worker = _worker(tmp_path, WEBHOOK_RETRY_BASE_SECONDS="1", WEBHOOK_PAUSE_AFTER_FAILURES="3")
    try:
        confirm_order(place_order(sales), by=manager)
        wait_for(
            lambda: WebhookEndpoint.objects.filter(status="paused").exists(),
            timeout=90,
            what="three failures in a row to pause the endpoint",
        )
    finally:
        worker.stop()
    delivery = WebhookDelivery.objects.get()
    assert len(receiver.requests) == 3
    assert [a.status_code for a in delivery.log.all()] == [500, 500, 500]
    assert delivery.status == WebhookDelivery.Status.PAUSED
    assert worker.emails_to(manager.email) == 1
