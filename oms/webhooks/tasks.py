"""Beat-run sweep (also woken after events fan out): send the webhook deliveries due now."""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def send_due_webhooks() -> int:
    """Every few seconds: POST each due delivery once per attempt, logging the answer."""
    from oms.webhooks.services import send_due

    return send_due()
