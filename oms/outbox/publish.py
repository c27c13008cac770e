"""publish(): the one way a service announces that something happened.

Call it inside the service's transaction: the event row commits or rolls back with the
change, so no effect is lost and none happens for a change that did not.
"""

from typing import Any

from django.db import models, transaction

from oms.outbox.models import OutboxEvent


def publish(kind: str, *, subject: models.Model, actor=None, **payload: Any) -> OutboxEvent:
    assert transaction.get_connection().in_atomic_block, "publish() belongs inside a transaction"
    order_id = (
        subject.pk
        if subject._meta.label_lower == "orders.order"
        else getattr(subject, "order_id", None)
    )
    event = OutboxEvent.objects.create(
        kind=kind,
        subject_type=subject._meta.label_lower,
        subject_id=subject.pk,
        order_id=order_id,
        actor_id=getattr(actor, "pk", None),
        payload=payload,
    )
    connection = transaction.get_connection()
    # One wake per transaction is enough, however many events it publishes.
    if not any(hook[1] is _wake_relay for hook in connection.run_on_commit):
        transaction.on_commit(_wake_relay)
    return event


def _wake_relay() -> None:
    """Nudge the relay so events go out within moments; the beat sweep is the guarantee."""
    from oms.outbox import relay

    relay.wake()
