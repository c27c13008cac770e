"""Celery entry points for the outbox: the relay sweep and the handler runner."""

import random
import smtplib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

# Failures worth another try: the database, the mail server or the network blinked, or
# someone changed the order at the same moment. Anything else is a bug or a business
# refusal, recorded as dead at once for an admin to look at.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
    BrokerError,
)


def _transient() -> tuple[type[BaseException], ...]:
    from orders.services import OrderChanged

    return (*TRANSIENT_ERRORS, OrderChanged)


@shared_task(ignore_result=True)
def relay_outbox() -> int:
    """Dispatch pending outbox events (and re-dispatch stale ones) to their handlers."""
    from oms.outbox.relay import relay_pending

    return relay_pending()


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.OUTBOX_MAX_ATTEMPTS - 1,
)
def run_handler(self, event_id: int, handler: str) -> str:
    """Carry out `handler` for outbox event `event_id`, once, whatever the delivery count."""
    from oms.outbox import runner

    try:
        return runner.run(event_id, handler)
    except _transient() as exc:
        final = self.request.retries >= self.max_retries
        runner.record_failure(event_id, handler, exc, final=final)
        if final:
            return runner.Outcome.DEAD
        countdown = _backoff(self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except Exception as exc:
        runner.record_failure(event_id, handler, exc, final=True)
        return runner.Outcome.DEAD


def _backoff(retries: int) -> int:
    """Exponential backoff with full jitter, capped at a minute: no long countdown in Redis."""
    ceiling = min(60, 2 ** (retries + 1))
    return random.randint(1, ceiling)
