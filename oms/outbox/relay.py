"""The relay: hands committed outbox events to Celery workers."""

import logging

logger = logging.getLogger(__name__)


def wake() -> None:
    """Ask a worker to relay now. Best effort: if the broker is down the beat sweep relays
    later, so a failure here must never break the request that published."""
    from oms.outbox.tasks import relay_outbox

    try:
        relay_outbox.apply_async(retry=False)
    except Exception:  # broker unreachable: the periodic sweep delivers it
        logger.warning("Broker unreachable; outbox events wait for the next relay sweep.")


def relay_pending() -> int:
    """Placeholder until the routing table lands: nothing is dispatched yet."""
    return 0
