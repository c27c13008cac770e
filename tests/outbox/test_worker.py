"""A task sent through the real Redis broker (REDIS_URL of `make test`) is executed by a
real worker process against the test database."""

import pytest
from django.conf import settings

from oms.automation.models import Notification
from oms.outbox.models import OutboxEvent
from orders.services import confirm_order
from tests.factories import place_order
from tests.faults.conftest import Worker, reference_data, wait_for  # noqa: F401


class _MakeTestBroker:
    url = settings.CELERY_BROKER_URL
    port = "make-test"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_confirmation_travels_through_redis_to_a_worker(tmp_path, sales, manager, operations):
    worker = Worker(_MakeTestBroker(), tmp_path)
    worker.start(concurrency=1)
    try:
        order = confirm_order(place_order(sales), by=manager)  # wakes the relay through Redis
        wait_for(
            lambda: Notification.objects.filter(user=operations, order=order).exists(),
            timeout=60,
            what="the worker to notify operations",
        )
        # The event settles once its last handler (the webhook fan-out) has run too.
        wait_for(
            lambda: OutboxEvent.objects.get(kind="order.confirmed").status == "done",
            timeout=30,
            what="the event to settle",
        )
    finally:
        worker.stop()
