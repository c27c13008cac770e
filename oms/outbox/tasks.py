from celery import shared_task


@shared_task(ignore_result=True)
def relay_outbox() -> int:
    """Dispatch pending outbox events to their handlers."""
    from oms.outbox.relay import relay_pending

    return relay_pending()
