"""The sweeper claims each due delivery once, holds no lock over the network, and picks up
a delivery whose worker died mid-POST."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from oms.webhooks.models import WebhookDelivery
from oms.webhooks.services import LEASE_MARGIN_SECONDS, _claim_next, send_due, send_ping


@pytest.mark.django_db
def test_a_delivery_whose_worker_died_is_sent_after_its_lease(receiver, endpoint, manager):
    delivery = send_ping(endpoint, by=manager)
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        claimed, number = _claim_next(timezone.now())  # this worker dies before it POSTs
        assert (claimed.pk, number) == (delivery.pk, 1)
        assert send_due() == 0  # leased: another sweeper leaves it alone
        lease = settings.WEBHOOK_TIMEOUT + LEASE_MARGIN_SECONDS
        clock.move_to(start + timedelta(seconds=lease + 1))
        assert send_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert [attempt.number for attempt in delivery.log.all()] == [2]
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweepers_send_each_delivery_once(receiver, endpoint, manager):
    deliveries = [send_ping(endpoint, by=manager) for _ in range(20)]
    counts: list[int] = []

    def sweep():
        try:
            counts.append(send_due())
        finally:
            connection.close()

    sweepers = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in sweepers:
        thread.start()
    for thread in sweepers:
        thread.join(timeout=60)
    assert sum(counts) == 20
    sent = [request["headers"]["X-OMS-Delivery"] for request in receiver.requests]
    assert sorted(sent) == sorted(str(d.uuid) for d in deliveries)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
