"""Writing lists out as CSV or Excel, with the headers an import reads back, so an export
can be corrected and imported again.

Cells that a spreadsheet would run as a formula (text starting with = + - @, a tab or a
carriage return) get a leading apostrophe: they open as text, never as a formula.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A cell safe to open in a spreadsheet: text that would be a formula becomes text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return neutralise(value)


def to_csv(headers: list[str], rows: Iterable[list]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows accents and £ signs correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_plain(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: list[str], rows: Iterable[list], *, title: str) -> bytes:
    """A workbook with numbers as numbers and dates as dates; text never as a formula."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(headers)
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value):
    if isinstance(value, Decimal | int | float | date) and not isinstance(value, bool):
        return value
    return _plain(value)


# --- the rows of each export: the import's own column labels --------------------------------

CUSTOMER_HEADERS = [
    "External reference",
    "Company name",
    "Customer type",
    "Billing address",
    "Delivery address",
    "Payment terms (days)",
    "Currency",
    "Tax number",
    "Account manager (email)",
    "Contact name",
    "Contact email",
    "Contact phone",
    "Contact role",
]


def customer_rows(customers) -> Iterator[list]:
    """One row per active contact (one row for a customer without contacts)."""
    for customer in customers:
        head = [
            customer.external_ref,
            customer.name,
            customer.get_segment_display(),
            customer.billing_address,
            customer.delivery_address,
            customer.payment_terms_days,
            customer.currency,
            customer.tax_number,
            customer.account_manager.email if customer.account_manager else "",
        ]
        contacts = list(customer.contacts.all())
        for contact in contacts or [None]:
            if contact is None:
                yield [*head, "", "", "", ""]
            else:
                yield [*head, contact.name, contact.email, contact.phone, contact.role]


PRODUCT_HEADERS = ["Product code", "Name", "Unit price", "Kind", "Unit", "Tax rate %", "Active"]


def product_rows(products) -> Iterator[list]:
    for product in products:
        yield [
            product.code,
            product.name,
            product.unit_price,
            product.kind,
            product.unit,
            product.tax_rate,
            product.active,
        ]


ORDER_HEADERS = [
    "OMS order number",
    "Customer",
    "Title",
    "Stage",
    "Owner (email)",
    "Customer PO",
    "Requested date",
    "Agreed date",
    "Currency",
    "Order net",
    "Order tax",
    "Order total",
    "Product code",
    "Line description",
    "Quantity",
    "Unit price",
    "Discount %",
    "Tax rate %",
    "Line net",
]


def order_rows(orders) -> Iterator[list]:
    """One row per line (one row for an order without lines)."""
    for order in orders:
        head = [
            order.number,
            order.customer.external_ref or order.customer.name,
            order.title,
            order.get_status_display(),
            order.owner.email,
            order.po_reference,
            order.requested_date,
            order.agreed_date,
            order.currency,
            order.net_total,
            order.tax_total,
            order.gross_total,
        ]
        lines = list(order.lines.all())
        for line in lines or [None]:
            if line is None:
                yield [*head, "", "", "", "", "", "", ""]
            else:
                yield [
                    *head,
                    line.product.code if line.product else "",
                    line.description,
                    line.quantity,
                    line.unit_price,
                    line.discount_percent,
                    line.tax_rate,
                    line.net_amount,
                ]
