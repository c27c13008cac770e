"""Celery entry point for imports too large to run in the request."""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def run_import_job(job_id: int) -> str:
    """Run queued import `job_id` once; a redelivered message finds it taken and stops."""
    from oms.imports.services import claim_import, run_import

    if claim_import(job_id) is None:
        return "already taken"
    return run_import(job_id).status
