"""The four steps in the browser's words: upload, match columns, preview, run and follow."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from oms.imports.models import ImportJob
from orders.models import Order, Product
from tests.factories import CustomerFactory, ProductFactory
from tests.imports.conftest import csv_bytes, import_file

pytestmark = pytest.mark.django_db


def upload(client, kind: str, data: bytes, name: str = "sheet.csv"):
    return client.post(
        reverse("imports:start"), {"kind": kind, "file": SimpleUploadedFile(name, data)}
    )


ORDER_FILE = [
    ["Ref", "Customer", "Title", "Stage", "Qty", "Price", "Description", "Email"],
    ["J-1", "ACC-1", "Shop fit", "confirmed", "1", "100", "Fit", ""],
    ["J-2", "Nobody Ltd", "Kitchen", "confirmed", "1", "100", "Fit", ""],
    ["J-3", "ACC-1", "Bathroom", "confirmed", "1", "abc", "Fit", ""],
    ["J-4", "ACC-1", "Roof", "half done", "1", "100", "Fit", ""],
]


def test_upload_map_preview_shows_first_rows_and_every_invalid_row(client, manager):
    CustomerFactory(name="Acme", external_ref="ACC-1")
    client.force_login(manager)
    response = upload(client, "orders", csv_bytes(ORDER_FILE))
    job = ImportJob.objects.get()
    assert response.url == reverse("imports:mapping", kwargs={"pk": job.pk})
    assert job.mapping["order_ref"] == "Ref" and job.mapping["unit_price"] == "Price"

    page = client.get(reverse("imports:mapping", kwargs={"pk": job.pk})).content.decode()
    assert '<option value="Stage" selected>Stage (e.g. confirmed)</option>' in page
    response = client.post(reverse("imports:mapping", kwargs={"pk": job.pk}), job.mapping)
    assert response.url == reverse("imports:preview", kwargs={"pk": job.pk})

    page = client.get(response.url).content.decode()
    assert "Shop fit" in page  # the valid row, as it will be imported
    assert "Unknown customer &#x27;Nobody Ltd&#x27;: import the customer first." in page
    assert "Unit price &#x27;abc&#x27; is not a number." in page
    assert "Stage &#x27;half done&#x27; is not known" in page
    assert "Skip invalid rows and import the rest" in page
    assert not Order.objects.exists(), "the preview writes nothing"


def test_run_refused_file_then_rerun_skipping_invalid_rows(client, manager):
    CustomerFactory(name="Acme", external_ref="ACC-1")
    client.force_login(manager)
    upload(client, "orders", csv_bytes(ORDER_FILE))
    job = ImportJob.objects.get()
    client.post(reverse("imports:mapping", kwargs={"pk": job.pk}), job.mapping)
    response = client.post(reverse("imports:run", kwargs={"pk": job.pk}))
    assert response.url == reverse("imports:detail", kwargs={"pk": job.pk})
    page = client.get(response.url).content.decode()
    assert "3 of 4 rows are invalid, so nothing was imported" in page
    assert not Order.objects.exists()

    upload(client, "orders", csv_bytes(ORDER_FILE))
    second = ImportJob.objects.latest("pk")
    client.post(reverse("imports:run", kwargs={"pk": second.pk}), {"skip_invalid": "on"})
    second.refresh_from_db()
    assert (second.status, second.created_count, second.skipped_count) == ("done", 1, 3)
    summary = client.get(reverse("imports:summary_csv", kwargs={"pk": second.pk}))
    text = summary.content.decode("utf-8-sig")
    assert "Created,1" in text and "Skipped,3" in text
    assert "3,Unknown customer 'Nobody Ltd': import the customer first." in text


def test_detail_page_progress_partial_polls_while_running(client, manager, settings):
    client.force_login(manager)
    settings.IMPORT_INLINE_MAX_ROWS = 0  # even a small file goes to the worker
    upload(client, "products", csv_bytes([["Code", "Name", "Price"], ["P1", "W", "1"]]))
    job = ImportJob.objects.get()
    client.post(reverse("imports:mapping", kwargs={"pk": job.pk}), job.mapping)
    client.post(reverse("imports:run", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
    partial = client.get(reverse("imports:detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<section class="card" id="import-progress"')
    assert 'hx-trigger="every 1s"' in body
    assert "<html" not in body


def test_finished_import_page_stops_polling_and_shows_the_summary(client, manager):
    job = import_file(
        "products", csv_bytes([["Code", "Name", "Price"], ["P1", "W", "1"]]), by=manager
    )
    client.force_login(manager)
    body = client.get(
        reverse("imports:detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "hx-trigger" not in body
    assert "<dt>Created</dt><dd>1</dd>" in body


def test_sales_sees_only_customer_imports_offered_and_only_their_own_jobs(client, sales, manager):
    client.force_login(sales)
    page = client.get(reverse("imports:start")).content.decode()
    assert 'value="customers"' in page and 'value="products"' not in page
    response = upload(client, "products", csv_bytes([["Code", "Name", "Price"]]))
    assert response.status_code == 400
    other = import_file("customers", csv_bytes([["Company"], ["Someone Ltd"]]), by=manager)
    assert client.get(reverse("imports:detail", kwargs={"pk": other.pk})).status_code == 404


@pytest.mark.parametrize("count", [10, 100])
def test_import_pages_keep_their_query_count(client, manager, django_assert_max_num_queries, count):
    for n in range(count // 10):
        import_file(
            "products", csv_bytes([["Code", "Name", "Price"], [f"P{n}", "W", "1"]]), by=manager
        )
    job = ImportJob.objects.first()
    client.force_login(manager)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("imports:start")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("imports:detail", kwargs={"pk": job.pk})).status_code == 200


@pytest.mark.parametrize("count", [10, 100])
def test_preview_query_count_does_not_grow_with_rows(
    client, manager, django_assert_max_num_queries, count
):
    CustomerFactory(name="Acme", external_ref="ACC-1")
    ProductFactory(code="W-1")
    rows = [["Ref", "Customer", "Title", "Stage", "SKU", "Qty"]] + [
        [f"J-{n}", "ACC-1", "Job", "confirmed", "W-1", "1"] for n in range(count)
    ]
    client.force_login(manager)
    upload(client, "orders", csv_bytes(rows))
    job = ImportJob.objects.get()
    with django_assert_max_num_queries(14):
        response = client.get(reverse("imports:preview", kwargs={"pk": job.pk}))
    assert response.status_code == 200
    assert f'{count}</div><div class="stat-label">to create' in response.content.decode()
    assert not Customer.objects.filter(name="Job").exists()
    assert Product.objects.count() == 1


def test_admin_lists_imports_read_only(client, admin_user, manager):
    job = import_file("customers", csv_bytes([["Company"], ["Listed Ltd"]]), by=manager)
    client.force_login(admin_user)
    page = client.get(reverse("admin:imports_importjob_changelist")).content.decode()
    assert "customers.csv" in page
    detail = client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
