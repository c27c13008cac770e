"""Malformed files are refused at upload with a sentence that says what to fix."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from oms.imports import services
from oms.imports.models import ImportJob
from orders.models import Product
from tests.imports.conftest import csv_bytes, import_file, xlsx_bytes

pytestmark = pytest.mark.django_db

PRODUCTS = [["Code", "Name", "Price"], ["P1", "Widget", "12.50"]]


def upload(client, kind: str, data: bytes, name: str = "file.csv"):
    return client.post(
        reverse("imports:start"), {"kind": kind, "file": _named(data, name)}, follow=False
    )


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_latin1_csv_is_refused_with_how_to_save_as_utf8(client, manager):
    client.force_login(manager)
    data = csv_bytes([["Code", "Name", "Price"], ["P1", "Café crème", "3"]], encoding="latin-1")
    response = upload(client, "products", data)
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()
    assert "CSV UTF-8" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_utf8_with_byte_order_mark_is_read_cleanly(manager):
    data = csv_bytes([["Code", "Name", "Price"], ["P1", "Café crème", "3"]], bom=True)
    job = import_file("products", data, by=manager)
    assert job.headers == ["Code", "Name", "Price"]
    assert job.status == ImportJob.Status.DONE
    assert Product.objects.get(code="P1").name == "Café crème"


def test_missing_required_header_is_refused_at_mapping(client, manager):
    client.force_login(manager)
    response = upload(client, "products", csv_bytes([["Code", "Name"], ["P1", "Widget"]]))
    job = ImportJob.objects.get()
    assert response.url == reverse("imports:mapping", kwargs={"pk": job.pk})
    response = client.post(reverse("imports:mapping", kwargs={"pk": job.pk}), job.mapping)
    assert response.status_code == 400
    assert "Missing required column(s): Unit price" in response.content.decode()
    with pytest.raises(ValidationError, match="Missing required"):
        services.queue_import(job, by=manager, skip_invalid=True)
    assert not Product.objects.exists()


def test_formula_cells_are_refused_never_evaluated(manager):
    data = xlsx_bytes(
        [["Code", "Name", "Price"], ["P1", "Widget", "=2*6"], ["P2", '=HYPERLINK("x")', "4"]]
    )
    job = services.start_import(kind="products", name="p.xlsx", data=data, by=manager)
    plan = services.preview_import(job)
    reasons = {error.row: error.message for error in plan.errors}
    assert "Unit price holds a formula (=2*6)" in reasons[2]
    assert "Name holds a formula" in reasons[3]
    job = services.queue_import(job, by=manager, skip_invalid=False)
    assert job.status == ImportJob.Status.REJECTED
    assert not Product.objects.exists()


def test_formula_in_a_csv_cell_is_refused_too(manager):
    data = csv_bytes([["Code", "Name", "Price"], ["P1", "=cmd|' /C calc'!A0", "1"]])
    job = import_file("products", data, by=manager, skip_invalid=True)
    assert job.created_count == 0
    assert "holds a formula" in job.errors[0]["message"]


def test_huge_cell_is_refused(client, manager, settings):
    client.force_login(manager)
    settings.IMPORT_MAX_CELL_CHARS = 1000
    data = csv_bytes([["Code", "Name", "Price"], ["P1", "x" * 5000, "1"]])
    response = upload(client, "products", data)
    assert response.status_code == 400
    assert "Row 2, column Name holds 5,000 characters; the limit is 1,000" in (
        response.content.decode()
    )


def test_cell_beyond_the_csv_reader_limit_is_refused(manager):
    data = csv_bytes([["Code", "Name", "Price"], ["P1", "x" * 200_000, "1"]])
    with pytest.raises(ValidationError, match="far too long"):
        services.start_import(kind="products", name="p.csv", data=data, by=manager)


def test_too_many_rows_is_refused(manager, settings):
    settings.IMPORT_MAX_ROWS = 3
    data = csv_bytes([["Code", "Name", "Price"]] + [[f"P{i}", "W", "1"] for i in range(4)])
    with pytest.raises(ValidationError, match="more than 3 rows"):
        services.start_import(kind="products", name="p.csv", data=data, by=manager)


def test_too_large_a_file_is_refused(client, manager, settings):
    client.force_login(manager)
    settings.IMPORT_MAX_BYTES = 100
    response = upload(client, "products", csv_bytes(PRODUCTS * 10))
    assert response.status_code == 400
    assert "the largest accepted is 100 bytes" in response.content.decode()


def test_file_type_is_judged_by_content_not_name(manager):
    as_xlsx_name = services.start_import(
        kind="products", name="really-a.xlsx", data=csv_bytes(PRODUCTS), by=manager
    )
    assert as_xlsx_name.file_format == "csv"
    as_csv_name = services.start_import(
        kind="products", name="really-a.csv", data=xlsx_bytes(PRODUCTS), by=manager
    )
    assert as_csv_name.file_format == "xlsx"


def test_zip_that_is_not_a_workbook_is_refused(manager):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ValidationError, match="not an Excel workbook"):
        services.start_import(kind="products", name="p.xlsx", data=buffer.getvalue(), by=manager)


def test_old_excel_and_binary_files_are_refused(manager):
    old_xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    with pytest.raises(ValidationError, match=r"old-style Excel \(.xls\)"):
        services.start_import(kind="products", name="p.xls", data=old_xls, by=manager)
    with pytest.raises(ValidationError, match="binary data"):
        services.start_import(kind="products", name="p.csv", data=b"\x89PNG\x00\x00", by=manager)


def test_empty_file_and_repeated_headers_are_refused(manager):
    with pytest.raises(ValidationError, match="empty"):
        services.start_import(kind="products", name="p.csv", data=b"\xef\xbb\xbf\n", by=manager)
    data = csv_bytes([["Code", "Name", "code"], ["P1", "W", "1"]])
    with pytest.raises(ValidationError, match="Two columns are both headed 'code'"):
        services.start_import(kind="products", name="p.csv", data=data, by=manager)


def test_semicolon_separated_csv_from_european_excel_is_read(manager):
    data = b"Code;Name;Price\nP1;Widget;12.50\n"
    job = import_file("products", data, by=manager)
    assert job.status == ImportJob.Status.DONE
    assert Product.objects.get(code="P1").unit_price == 12.5


def test_nul_character_deep_in_a_csv_is_refused(manager):
    rows = [["Code", "Name", "Price"]] + [[f"P{n}", "W" * 50, "1"] for n in range(2000)]
    data = csv_bytes([*rows, ["P-last", "bad\x00name", "1"]])
    assert b"\x00" not in data[:65536]
    with pytest.raises(ValidationError, match="Row 2002 holds binary data"):
        services.start_import(kind="products", name="p.csv", data=data, by=manager)
