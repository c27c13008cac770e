"""Reactions to outbox events: the webhook fan-out.

Contract: queue_webhook_deliveries runs for every event kind (routes.py) and writes one
delivery per subscribed endpoint for each public event the outbox event becomes. Its rows
commit with the handler's completion record, and each is unique per event, endpoint and
type, so running it twice writes nothing new. Sending happens later, in the sweeper.
"""

from oms.outbox.models import OutboxEvent
from oms.webhooks import services


def queue_webhook_deliveries(event: OutboxEvent) -> int:
    return services.queue_deliveries(event)
