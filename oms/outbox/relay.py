"""The relay: hands committed outbox events to Celery workers, and keeps handing them.

The database is the memory, not Redis. The relay claims pending events with
SELECT ... FOR UPDATE SKIP LOCKED (so several relays never send the same event at once),
sends one task per (event, handler), and marks the event dispatched only once the broker
took the messages. An event dispatched a while ago whose handlers have not all finished
is dispatched again: the broker may have lost it (a Redis restart, a killed worker), and
handlers are idempotent, so sending twice costs nothing and losing it is impossible.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from oms.outbox.models import HandlerRun, OutboxEvent

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


def wake() -> None:
    """Ask a worker to relay now. Best effort: if the broker is down the beat sweep relays
    later, so a failure here must never break the request that published."""
    try:
        from oms.outbox.tasks import relay_outbox

        relay_outbox.apply_async(retry=False)
    except Exception:  # broker unreachable: the periodic sweep delivers it
        logger.warning("Broker unreachable; outbox events wait for the next relay sweep.")


def _claimable(now):
    stale = now - timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER)
    return OutboxEvent.objects.filter(
        Q(status=OutboxEvent.Status.PENDING, available_at__lte=now)
        | Q(status=OutboxEvent.Status.DISPATCHED, dispatched_at__lt=stale)
    )


def relay_pending(*, limit: int = BATCH_SIZE) -> int:
    """Dispatch every claimable event (pending, or dispatched but unfinished for too long).

    Returns how many events went to the broker. Stops at the first broker failure and
    leaves the rest pending for the next sweep.
    """
    from oms.outbox import routes
    from oms.outbox.tasks import run_handler

    sent = 0
    after = 0  # one pass over the table per run, however long sending takes
    while True:
        batch_sent, after, more = _relay_batch(routes, run_handler, limit, after)
        sent += batch_sent
        if not more:
            return sent


def _relay_batch(routes, run_handler, limit: int, after: int) -> tuple[int, int, bool]:
    now = timezone.now()
    sent = 0
    with transaction.atomic(), run_handler.app.producer_or_acquire() as producer:
        # NO KEY UPDATE: handlers may insert their completion rows (which point at the
        # event) while the relay holds it; SKIP LOCKED: concurrent relays share the work.
        events = list(
            _claimable(now)
            .filter(id__gt=after)
            .select_for_update(no_key=True, skip_locked=True)
            .order_by("id")[:limit]
        )
        last = events[-1].id if events else after
        finished = {
            (run.event_id, run.handler): run.status
            for run in HandlerRun.objects.filter(
                event__in=events, status__in=[HandlerRun.Status.DONE, HandlerRun.Status.DEAD]
            )
        }
        for event in events:
            names = [routes.handler_name(h) for h in routes.handlers_for(event.kind)]
            todo = [name for name in names if (event.id, name) not in finished]
            if not todo:
                _settle(event, [finished[(event.id, name)] for name in names], now)
                continue
            try:
                for name in todo:
                    run_handler.apply_async((event.id, name), retry=False, producer=producer)
            except Exception as exc:  # the broker is down: keep what went, retry the rest later
                logger.warning("Relay stopped at event %s: %s", event.id, exc)
                return sent, last, False
            event.status = OutboxEvent.Status.DISPATCHED
            event.dispatched_at = now
            event.dispatch_count += 1
            event.save(update_fields=["status", "dispatched_at", "dispatch_count"])
            sent += 1
    return sent, last, len(events) == limit


def _settle(event: OutboxEvent, statuses: list[str], now) -> None:
    event.status = (
        OutboxEvent.Status.DEAD if HandlerRun.Status.DEAD in statuses else OutboxEvent.Status.DONE
    )
    event.completed_at = now
    event.save(update_fields=["status", "completed_at"])


def settle_event(event_id: int) -> None:
    """Mark the event done (or dead) once every routed handler has finished."""
    from oms.outbox import routes

    with transaction.atomic():
        # SKIP LOCKED: if the relay holds the event, it settles it itself on its next pass.
        event = (
            OutboxEvent.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(pk=event_id)
            .first()
        )
        if event is None or event.status in (OutboxEvent.Status.DONE, OutboxEvent.Status.DEAD):
            return
        names = [routes.handler_name(h) for h in routes.handlers_for(event.kind)]
        runs = dict(
            HandlerRun.objects.filter(event=event, handler__in=names).values_list(
                "handler", "status"
            )
        )
        statuses = [runs.get(name, HandlerRun.Status.PENDING) for name in names]
        if HandlerRun.Status.PENDING in statuses:
            return
        _settle(event, statuses, timezone.now())


def oldest_pending_age(now=None) -> timedelta | None:
    """How long the oldest unfinished event has waited, or None when nothing waits."""
    oldest = OutboxEvent.objects.filter(
        status__in=[OutboxEvent.Status.PENDING, OutboxEvent.Status.DISPATCHED]
    ).aggregate(oldest=Min("created_at"))["oldest"]
    if oldest is None:
        return None
    return (now or timezone.now()) - oldest


def retry_event(event: OutboxEvent) -> OutboxEvent:
    """Give a dead event another chance: dead runs start over and the relay sends it again."""
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().get(pk=event.pk)
        for run in event.runs.filter(status=HandlerRun.Status.DEAD):
            run.status = HandlerRun.Status.PENDING
            run.attempts = 0
            run.save(update_fields=["status", "attempts"])
        event.status = OutboxEvent.Status.PENDING
        event.available_at = timezone.now()
        event.completed_at = None
        event.last_error = ""
        event.save(update_fields=["status", "available_at", "completed_at", "last_error"])
        transaction.on_commit(wake)
    return event
