"""Faults at Xero's edge: retries, rate limits, lost responses and racing workers never
produce a second Xero record, and every failure is visible and retryable."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import Retry
from django.utils import timezone

from invoicing.accounting import services, tasks
from invoicing.accounting.models import SyncLog, SyncRecord, XeroConnection
from invoicing.accounting.provider import (
    Busy,
    DailyLimitReached,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from invoicing.accounting.ratelimit import XeroRateLimiter
from invoicing.accounting.xero import XeroProvider
from tests.xero.fake_xero import TENANT_ID


def run_task(task, *args):
    """Run a task body as a worker would (not eagerly), so retry() reports its countdown."""
    task.push_request(
        id="test-task", args=list(args), kwargs={}, retries=0, called_directly=False, is_eager=False
    )
    try:
        return task.run(*args)
    finally:
        task.pop_request()


@pytest.mark.django_db
def test_a_500_then_success_retries_and_creates_one_invoice(connected, xero, approved_invoice):
    invoice = approved_invoice()
    xero.fail_next("PUT", "/Invoices", "500")

    with pytest.raises(TransientError) as failure:
        services.sync_invoice(invoice.pk)

    record = SyncRecord.objects.get(kind="invoice", local_id=invoice.pk)
    assert record.status == SyncRecord.Status.PENDING
    assert "500" in record.last_error
    assert failure.value.retry_in >= 10
    assert record.next_attempt_at > timezone.now()

    record = services.sync_invoice(invoice.pk)

    assert record.status == SyncRecord.Status.SYNCED
    assert len(xero.invoices) == 1
    assert record.last_error == ""


@pytest.mark.django_db
def test_a_response_dropped_after_the_invoice_was_created_never_duplicates_it(
    connected, xero, approved_invoice
):
    invoice = approved_invoice()
    xero.fail_next("PUT", "/Invoices", "drop")

    with pytest.raises(TransientError):
        services.sync_invoice(invoice.pk)
    assert len(xero.invoices) == 1  # Xero made it; we never heard back

    record = services.sync_invoice(invoice.pk)

    assert len(xero.invoices) == 1
    assert record.external_id == next(iter(xero.invoices))
    assert record.status == SyncRecord.Status.SYNCED


@pytest.mark.django_db
def test_every_create_carries_a_deterministic_idempotency_key(connected, xero, approved_invoice):
    invoice = approved_invoice()
    services.sync_contact(invoice.customer_id)
    contact_id = SyncRecord.objects.get(kind="contact").external_id
    provider = XeroProvider(XeroConnection.objects.get())
    key = f"oms-invoice-{invoice.pk}-v1"

    first = provider.push_invoice(
        invoice, contact_id=contact_id, external_id="", idempotency_key=key, maybe_exists=False
    )
    again = provider.push_invoice(
        invoice, contact_id=contact_id, external_id="", idempotency_key=key, maybe_exists=False
    )

    assert again.external_id == first.external_id
    assert len(xero.invoices) == 1
    creates = [c for c in xero.api_calls() if c.method == "PUT"]
    assert creates and all(c.idempotency_key for c in creates)
    assert [c.idempotency_key for c in creates if "/Invoices" in c.path] == [key, key]


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_invoice_create_one_xero_invoice(
    connected, xero, approved_invoice
):
    invoice = approved_invoice()
    services.sync_contact(invoice.customer_id)
    xero.latency = 0.2  # both workers are in flight at once
    xero.fail_next("PUT", "/Invoices", "500")  # and the first attempt fails
    start = threading.Barrier(2)
    outcomes = []

    def worker():
        from django.db import connection

        start.wait()
        try:
            for _ in range(100):
                try:
                    services.sync_invoice(invoice.pk)
                    outcomes.append("synced")
                    return
                except (Busy, TransientError):
                    time.sleep(0.05)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["synced", "synced"]
    assert len(xero.invoices) == 1
    record = SyncRecord.objects.get(kind="invoice", local_id=invoice.pk)
    assert record.external_id == next(iter(xero.invoices))


@pytest.mark.django_db
def test_a_429_waits_at_least_retry_after(connected, xero, approved_invoice):
    invoice = approved_invoice()
    services.sync_contact(invoice.customer_id)
    xero.fail_next("PUT", "/Invoices", "429", retry_after=30)

    with pytest.raises(Retry) as retry:
        run_task(tasks.push_invoice_to_xero, invoice.pk)

    assert retry.value.when >= 30
    record = SyncRecord.objects.get(kind="invoice", local_id=invoice.pk)
    assert record.status == SyncRecord.Status.PENDING
    assert record.next_attempt_at >= timezone.now() + timedelta(seconds=29)
    # Every worker now holds off this organisation, not only the one that was told.
    assert XeroRateLimiter(TENANT_ID).try_acquire("another-worker") >= 29
    calls = len(xero.api_calls())
    with pytest.raises(RateLimited):
        services.sync_invoice(invoice.pk)
    assert len(xero.api_calls()) == calls


@pytest.mark.django_db
def test_the_daily_limit_parks_the_integration_until_reset_with_one_alert(
    connected, xero, approved_invoice, mailoutbox
):
    first, second = approved_invoice(), approved_invoice()
    xero.fail_next("PUT", "/Contacts", "429-day", retry_after=3600)

    with pytest.raises(DailyLimitReached):
        services.sync_invoice(first.pk)
    calls = len(xero.api_calls())
    with pytest.raises(DailyLimitReached):
        services.sync_invoice(second.pk)

    connection = XeroConnection.objects.get()
    assert connection.parked_until >= timezone.now() + timedelta(seconds=3590)
    assert len(xero.api_calls()) == calls  # parked: no call reached Xero
    assert len(mailoutbox) == 1
    assert "daily limit" in mailoutbox[0].subject
    assert SyncLog.objects.filter(action="daily limit").count() == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=3700), tick=True):
        assert services.sync_invoice(first.pk).status == SyncRecord.Status.SYNCED
        assert services.sync_invoice(second.pk).status == SyncRecord.Status.SYNCED
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_400_validation_error_is_not_retried_and_shows_its_message(
    connected, xero, approved_invoice, finance, client
):
    invoice = approved_invoice()
    xero.fail_next("PUT", "/Invoices", "400", message="Account code '200' is archived.")

    assert run_task(tasks.push_invoice_to_xero, invoice.pk) is None  # no retry scheduled

    record = SyncRecord.objects.get(kind="invoice", local_id=invoice.pk)
    assert record.status == SyncRecord.Status.FAILED
    assert record.last_error == "Account code '200' is archived."
    assert record.next_attempt_at is None
    client.force_login(finance)
    page = client.get("/xero/sync/?status=failed").content.decode()
    assert "Account code &#x27;200&#x27; is archived." in page
    assert f"/xero/sync/{record.pk}/retry/" in page

    response = client.post(f"/xero/sync/{record.pk}/retry/")

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.PENDING
    assert services.sync_invoice(invoice.pk).status == SyncRecord.Status.SYNCED
    assert len(xero.invoices) == 1


@pytest.mark.django_db
def test_transient_failures_stop_after_the_attempt_budget(
    connected, xero, approved_invoice, settings
):
    settings.XERO_SYNC_MAX_ATTEMPTS = 2
    invoice = approved_invoice()
    services.sync_contact(invoice.customer_id)
    xero.fail_next("PUT", "/Invoices", "500", times=5)
    xero.fail_next("GET", "/Invoices", "500", times=5)

    with pytest.raises(TransientError) as first:
        services.sync_invoice(invoice.pk)
    with pytest.raises(TransientError) as second:
        services.sync_invoice(invoice.pk)

    assert first.value.retry_in is not None
    assert second.value.retry_in is None
    record = SyncRecord.objects.get(kind="invoice", local_id=invoice.pk)
    assert record.status == SyncRecord.Status.FAILED
    assert "500" in record.last_error


@pytest.mark.django_db
def test_a_failed_invoice_push_is_not_retried_by_the_task(connected, xero, approved_invoice):
    invoice = approved_invoice()
    xero.fail_next("PUT", "/Invoices", "400", message="Bad data")

    with pytest.raises(ValidationFailed):
        services.sync_invoice(invoice.pk)
    assert run_task(tasks.push_invoice_to_xero, invoice.pk) is None
