"""Xero's per-organisation limits hold across workers: a shared limiter in Redis."""

import queue
import threading
import time

import pytest
from django.db import connection as db_connection

from invoicing.accounting import services
from invoicing.accounting.models import SyncRecord
from invoicing.accounting.provider import Busy, RateLimited, TransientError
from tests.factories import CustomerFactory


def most_in_any_window(starts: list[float], window: float) -> int:
    starts = sorted(starts)
    most, first = 0, 0
    for last, started in enumerate(starts):
        while started - starts[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.serial
@pytest.mark.django_db(transaction=True)
def test_draining_500_queued_syncs_stays_within_60_a_window_and_5_in_flight(
    connected, xero, settings
):
    window = 2.0
    settings.XERO_RATE_WINDOW_SECONDS = window  # Xero's minute, shrunk for the test
    xero.latency = 0.02
    customers = CustomerFactory.create_batch(500)
    queued: queue.Queue[int] = queue.Queue()
    for customer in customers:
        queued.put(customer.pk)
    failures = []

    def worker():
        try:
            while True:
                try:
                    customer_id = queued.get_nowait()
                except queue.Empty:
                    return
                try:
                    services.sync_contact(customer_id)
                except (Busy, RateLimited, TransientError):
                    queued.put(customer_id)
                except Exception as error:
                    failures.append(error)
        finally:
            db_connection.close()

    began = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(12)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    took = time.monotonic() - began

    assert failures == []
    assert SyncRecord.objects.filter(kind="contact", status="synced").count() == 500
    assert len(xero.contacts) == 500
    calls = xero.api_calls()
    assert len(calls) >= 1000  # a lookup by name and a create for each
    assert xero.max_in_flight <= 5
    assert most_in_any_window([c.started for c in calls], window) <= 60
    # The limiter, not the fake's speed, set the pace.
    assert took >= (len(calls) / 60 - 1) * window
