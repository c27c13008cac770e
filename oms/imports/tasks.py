"""Celery entry points for imports too large to run in the request."""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def run_import_job(job_id: int) -> str:
    """Run import `job_id` once; a message delivered twice finds it taken and stops."""
    from oms.imports.services import claim_import, run_import

    if claim_import(job_id) is None:
        return "taken"
    job = run_import(job_id)
    return job.status if job else "taken"


@shared_task(ignore_result=True)
def resume_imports() -> int:
    """Beat's sweep: start queued imports whose message was lost, and restart those whose
    worker died mid-run (their transaction rolled back, so they start clean)."""
    from oms.imports.services import resumable_imports

    job_ids = resumable_imports()
    for job_id in job_ids:
        run_import_job.delay(job_id)
    return len(job_ids)
