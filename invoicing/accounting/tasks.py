"""Celery entry points for the accounting sync: ids in, a service call, the retry policy."""

import logging
from collections.abc import Callable

from celery import shared_task

from invoicing.accounting import services
from invoicing.accounting.provider import Busy, DailyLimitReached, SyncError

logger = logging.getLogger(__name__)


def _run(task, service: Callable, *args) -> None:
    try:
        service(*args)
    except Busy:
        raise task.retry(countdown=30, max_retries=None) from None
    except SyncError as error:
        retry_in = getattr(error, "retry_in", None)
        if retry_in is None and isinstance(error, DailyLimitReached):
            retry_in = error.retry_after
        if retry_in is None:
            return  # stored on the sync record for finance to read and retry
        raise task.retry(countdown=max(int(retry_in + 0.999), 1), max_retries=None) from None


@shared_task(bind=True, acks_late=True, ignore_result=True)
def push_contact_to_xero(self, customer_id: int) -> None:
    _run(self, services.sync_contact, customer_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def push_invoice_to_xero(self, invoice_id: int) -> None:
    """Invoices and credit notes alike."""
    _run(self, services.sync_invoice, invoice_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def push_payment_to_xero(self, payment_id: int) -> None:
    _run(self, services.sync_payment, payment_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def process_xero_webhook_event(self, event_id: int) -> None:
    _run(self, services.process_webhook_event, event_id)


@shared_task(ignore_result=True)
def poll_xero_payments() -> int:
    """Scheduled: payments made in Xero since the last poll; then requeue stalled pushes."""
    try:
        recorded = services.poll_payments()
    except SyncError as error:
        logger.info("Xero payment poll skipped: %s", error.message)
        recorded = 0
    services.sweep_pending()
    return recorded
