"""Beat-run sweeps: due follow-ups and reminders, and quote expiry."""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def send_due_followups() -> int:
    """Every minute: send each follow-up and reminder step that has fallen due, once."""
    from oms.automation.services import send_due

    return send_due()


@shared_task(ignore_result=True, acks_late=True)
def expire_quotes() -> int:
    """Expire sent quotes past their valid-until date; their owners are told."""
    from oms.automation.services import expire_due_quotes

    return expire_due_quotes()
