"""A 50,000-row file runs in a real Celery worker (through the real Redis broker) while
the job page reports its progress, and ends with the summary."""

import re
import time

import pytest
from django.conf import settings
from django.urls import reverse

from oms.imports import services
from oms.imports.models import ImportJob
from orders.models import Product
from tests.faults.conftest import Worker, reference_data, wait_for  # noqa: F401
from tests.imports.conftest import csv_bytes

ROWS = 50_000


def catalogue(rows: int) -> bytes:
    lines = [["Code", "Name", "Price", "Tax rate"]] + [
        [f"BULK-{n:06d}", f"Bulk item {n}", f"{n % 997}.{n % 100:02d}", "20"] for n in range(rows)
    ]
    return csv_bytes(lines)


class _MakeTestBroker:
    url = settings.CELERY_BROKER_URL
    port = "imports"


def _percent(client, job: ImportJob) -> int:
    body = client.get(
        reverse("imports:detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true"
    ).content.decode()
    return int(re.search(r'<progress max="100" value="(\d+)">', body).group(1))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_fifty_thousand_rows_import_in_the_worker_with_progress(
    tmp_path, client, manager, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Row 2 is invalid: with "skip invalid rows" the rest still go in.
    data = catalogue(ROWS).replace(b"BULK-000000,Bulk item 0,0.00", b"BULK-000000,Bulk item 0,n/a")
    job = services.start_import(kind="products", name="catalogue.csv", data=data, by=manager)
    assert job.total_rows == ROWS

    worker = Worker(_MakeTestBroker(), tmp_path, MEDIA_ROOT=str(settings.MEDIA_ROOT))
    worker.start(concurrency=1)
    try:
        client.force_login(manager)
        response = client.post(
            reverse("imports:run", kwargs={"pk": job.pk}), {"skip_invalid": "on"}
        )
        assert response.status_code == 302
        seen: list[int] = []
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            job.refresh_from_db()
            seen.append(_percent(client, job))
            if job.is_finished:
                break
            time.sleep(0.2)
        assert job.status == ImportJob.Status.DONE, (job.status, job.message)
    finally:
        worker.stop()

    assert (job.created_count, job.skipped_count) == (ROWS - 1, 1)
    assert job.errors == [{"row": 2, "message": "Unit price 'n/a' is not a number."}]
    assert Product.objects.count() == ROWS - 1
    assert job.started_at and job.finished_at
    # The page saw the import part-way through, then complete.
    assert any(0 < percent < 100 for percent in seen), seen
    assert seen == sorted(seen) and seen[-1] == 100
    summary = client.get(reverse("imports:summary_csv", kwargs={"pk": job.pk}))
    assert f"Created,{ROWS - 1}" in summary.content.decode("utf-8-sig")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_an_import_whose_worker_dies_midway_is_restarted_clean(tmp_path, manager, settings):
    """The killed run's transaction rolls back; beat's sweep finds the job's row unlocked
    and starts it again on another worker, which imports every row exactly once."""
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "media"
    job = services.start_import(
        kind="products", name="catalogue.csv", data=catalogue(ROWS), by=manager
    )
    job = services.set_mapping(job, job.mapping, by=manager)
    env = {
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "IMPORT_RESUME_AFTER": "1",
        "IMPORT_SWEEP_INTERVAL": "1",
    }
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = Worker(_MakeTestBroker(), tmp_path / "first", **env)
    second = Worker(_MakeTestBroker(), tmp_path / "second", **env)
    first.start(concurrency=1)
    try:
        services.queue_import(job, by=manager, skip_invalid=False)
        wait_for(
            lambda: (cache.get(services.progress_key(job.pk)) or 0) > 0,
            timeout=300,
            what="the first worker to start writing",
            every=0.05,
        )
        first.stop()  # SIGKILL, mid-transaction
        job.refresh_from_db()
        assert job.status == ImportJob.Status.RUNNING
        second.start(concurrency=1)
        wait_for(
            lambda: ImportJob.objects.get(pk=job.pk).is_finished,
            timeout=600,
            what="the sweep to restart the import on the second worker",
        )
    finally:
        first.stop()
        second.stop()
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", ROWS), job.message
    assert Product.objects.count() == ROWS
