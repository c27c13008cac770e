"""Spreadsheets built in memory, and a manager's upload taken through every step."""

import csv
import io

import openpyxl
import pytest

from oms.imports import services
from oms.imports.models import ImportJob


def csv_bytes(rows: list[list], *, bom: bool = False, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    text = ("\ufeff" if bom else "") + buffer.getvalue()
    return text.encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_file(
    kind: str, data: bytes, *, by, skip_invalid: bool = False, name: str = ""
) -> ImportJob:
    """Upload, keep the guessed mapping, and run: what a person does clicking through."""
    job = services.start_import(kind=kind, name=name or f"{kind}.csv", data=data, by=by)
    job = services.set_mapping(job, job.mapping, by=by)
    return services.queue_import(job, by=by, skip_invalid=skip_invalid)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
