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
    rows = [["Code", "Name", "Price", "Tax rate"]] + [
        [f"BULK-{n:06d}", f"Bulk item {n}", f"{n % 997}.{n % 100:02d}", "20"] for n in range(ROWS)
    ]
    # Row 2 is invalid: with "skip invalid rows" the rest still go in.
    rows[1][2] = "n/a"
    job = services.start_import(
        kind="products", name="catalogue.csv", data=csv_bytes(rows), by=manager
    )
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
