"""Reading uploaded spreadsheets: CSV (UTF-8, with or without BOM) and Excel .xlsx.

The file's content decides what it is, never its name. Anything malformed is refused with
a sentence a person can act on: wrong encoding, not a real workbook, too big, too many
rows, a cell too long, no header row or the same header twice. Formulas are never
evaluated: openpyxl reads a formula as its text (`=SUM(A1:A3)`), and the row checks refuse
any cell that starts with "=".
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls format
XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
# A workbook may unpack to this many times the upload limit; beyond it is a zip bomb.
MAX_UNPACK_RATIO = 20


@dataclass
class Table:
    """A sheet as text: the header row and the data rows (spreadsheet row numbers)."""

    file_format: str
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def read_table(data: bytes) -> Table:
    """The first sheet of an upload, every cell as text. Raises ValidationError."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ValidationError(
            f"The file is {len(data):,} bytes; the largest accepted is {limit:,} bytes. "
            "Split it into smaller files."
        )
    if not data.strip():
        raise ValidationError("The file is empty.")
    if data.startswith(OLE_MAGIC):
        raise ValidationError(
            "This is an old-style Excel (.xls) file. Save it as an Excel workbook (.xlsx) "
            "or as CSV UTF-8 and upload that."
        )
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    return _read_csv(data)


# --- CSV -----------------------------------------------------------------------------


def _read_csv(data: bytes) -> Table:
    if b"\x00" in data[:65536]:
        raise ValidationError(
            "This is not a CSV or Excel file (it holds binary data). Upload a .csv or .xlsx."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"The file is not UTF-8 text (an unexpected byte 0x{data[exc.start]:02x} at "
            f"position {exc.start:,}). In Excel choose Save As → 'CSV UTF-8 (Comma "
            "delimited)', or upload the .xlsx workbook itself."
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        return _table("csv", ((number, row) for number, row in enumerate(reader, start=1)))
    except csv.Error as exc:
        # The csv module's own limit (131,072 characters) or a broken quote.
        raise ValidationError(
            f"The CSV could not be read near line {reader.line_num:,}: {exc}. A cell may be "
            f"far too long (the limit is {settings.IMPORT_MAX_CELL_CHARS:,} characters) or "
            "have an unclosed quote."
        ) from exc


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Comma, semicolon (European Excel) or tab separated, judged from the first lines."""
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        return csv.excel


# --- XLSX ----------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> Table:
    import openpyxl

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationError("The file looks like a workbook but is damaged.") from exc
    if not all(part in names for part in XLSX_PARTS):
        raise ValidationError(
            "This zip file is not an Excel workbook (.xlsx). Upload a .xlsx or a .csv file."
        )
    if unpacked > settings.IMPORT_MAX_BYTES * MAX_UNPACK_RATIO:
        raise ValidationError("The workbook unpacks to far more data than it should; refused.")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ValidationError(f"The workbook could not be opened: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = (
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _table("xlsx", rows)
    finally:
        workbook.close()


def _cell_text(value) -> str:
    """A workbook cell as the text a person typed; numbers keep their exact digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # repr gives the shortest exact decimal (0.1 stays 0.1), never binary noise.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else str(Decimal(text))
    return str(value)


# --- both ----------------------------------------------------------------------------


def _table(file_format: str, numbered_rows) -> Table:
    max_rows = settings.IMPORT_MAX_ROWS
    max_cell = settings.IMPORT_MAX_CELL_CHARS
    headers: list[str] | None = None
    table = Table(file_format=file_format, headers=[])
    for number, row in numbered_rows:
        cells = [cell.strip() if isinstance(cell, str) else str(cell) for cell in row]
        for column, cell in enumerate(cells):
            if "\x00" in cell:
                raise ValidationError(
                    f"Row {number} holds binary data (a NUL character); this is not a "
                    "spreadsheet of text. Export it again as CSV UTF-8 or .xlsx."
                )
            if len(cell) > max_cell:
                name = headers[column] if headers and column < len(headers) else column + 1
                raise ValidationError(
                    f"Row {number}, column {name} holds {len(cell):,} characters; the limit "
                    f"is {max_cell:,}. Shorten it and upload again."
                )
        if not any(cells):
            continue
        if headers is None:
            headers = _headers(cells)
            table.headers = headers
            continue
        if len(table.rows) >= max_rows:
            raise ValidationError(
                f"The file has more than {max_rows:,} rows; split it into files of at most "
                f"{max_rows:,} rows."
            )
        table.rows.append((number, cells))
    if headers is None:
        raise ValidationError("The file is empty.")
    return table


def _headers(cells: list[str]) -> list[str]:
    seen: set[str] = set()
    for header in cells:
        key = header.casefold()
        if key and key in seen:
            raise ValidationError(
                f"Two columns are both headed '{header}'. Give each column its own header."
            )
        seen.add(key)
    if not seen - {""}:
        raise ValidationError("The first row must name the columns; it is blank.")
    return cells
