"""The handler runner: carries out one handler for one event, exactly once.

The handler's writes and its completion row commit together, under a lock on that row,
so a duplicate message waits for the first run and then finds it done; a run killed
mid-way commits nothing, and its retry starts from a clean slate.
"""

import logging
import os
import traceback

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms.outbox.models import HandlerRun, OutboxEvent

logger = logging.getLogger(__name__)


class Outcome:
    DONE = "done"
    ALREADY_DONE = "already done"
    DEAD = "dead"
    GONE = "gone"


def run(event_id: int, handler: str) -> str:
    from oms.outbox import routes
    from oms.outbox.relay import settle_event

    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None:
        return Outcome.GONE
    function = routes.handler_named(event.kind, handler)
    _begin(event, handler)
    with transaction.atomic():
        # The lock makes a concurrent duplicate wait here until this run commits.
        record = HandlerRun.objects.select_for_update().get(event=event, handler=handler)
        if record.status != HandlerRun.Status.PENDING:
            outcome = (
                Outcome.ALREADY_DONE if record.status == HandlerRun.Status.DONE else record.status
            )
        else:
            function(event)
            record.status = HandlerRun.Status.DONE
            record.completed_at = timezone.now()
            record.last_error = ""
            record.save(update_fields=["status", "completed_at", "last_error"])
            outcome = Outcome.DONE
    settle_event(event_id)
    return outcome


def _begin(event: OutboxEvent, handler: str) -> None:
    """Count the attempt and note who is running it, committed before the work starts."""
    with transaction.atomic():
        record, _ = HandlerRun.objects.get_or_create(event=event, handler=handler)
        # Waits while another delivery of the same message is mid-run, then sees it done.
        record = HandlerRun.objects.select_for_update().get(pk=record.pk)
        if record.status != HandlerRun.Status.PENDING:
            return
        record.attempts += 1
        record.worker_pid = os.getpid()
        record.started_at = timezone.now()
        record.save(update_fields=["attempts", "worker_pid", "started_at"])


def record_failure(event_id: int, handler: str, exc: BaseException, *, final: bool) -> None:
    """Keep the error for admins; after the last attempt the run is dead and stays visible."""
    from oms.outbox.relay import settle_event

    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
    with transaction.atomic():
        record = (
            HandlerRun.objects.select_for_update()
            .filter(event_id=event_id, handler=handler)
            .first()
        )
        if record is None or record.status == HandlerRun.Status.DONE:
            return
        record.last_error = text
        fields = ["last_error"]
        if final:
            record.status = HandlerRun.Status.DEAD
            record.completed_at = timezone.now()
            fields += ["status", "completed_at"]
        record.save(update_fields=fields)
        event = OutboxEvent.objects.select_for_update().get(pk=event_id)
        event.last_error = f"{handler}: {text}"
        event.save(update_fields=["last_error"])
    if final:
        logger.error("Handler %s gave up on event %s: %s", handler, event_id, text)
        settle_event(event_id)
    else:
        logger.warning("Handler %s failed on event %s, will retry: %s", handler, event_id, text)


def max_attempts() -> int:
    return settings.OUTBOX_MAX_ATTEMPTS


def drain(*, rounds: int = 10) -> int:
    """Carry out every unfinished event in this process, without a broker, until handlers
    publish nothing new (rounds caps chains). For the `run_outbox` command and for tests
    of what an event leads to; production relays through Celery."""
    from oms.outbox import routes
    from oms.outbox.relay import settle_event

    done = 0
    for _ in range(rounds):
        events = list(
            OutboxEvent.objects.filter(
                status__in=[OutboxEvent.Status.PENDING, OutboxEvent.Status.DISPATCHED]
            ).order_by("id")
        )
        if not events:
            break
        for event in events:
            for handler in routes.handlers_for(event.kind):
                name = routes.handler_name(handler)
                try:
                    run(event.pk, name)
                except Exception as exc:
                    record_failure(event.pk, name, exc, final=True)
            done += 1
            settle_event(event.pk)
    return done
