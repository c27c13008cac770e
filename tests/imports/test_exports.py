"""Exports from the customer, product and order lists: CSV and Excel, the page's filters,
formula injection neutralised, and files that import straight back."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from customers.models import Contact
from oms.imports.models import ImportJob
from orders.models import Product
from tests.factories import CustomerFactory, ProductFactory, advance_order, place_order
from tests.imports.conftest import import_file

pytestmark = pytest.mark.django_db


def export(client, kind: str, fmt: str, **params):
    response = client.get(reverse("imports:export", kwargs={"kind": kind, "fmt": fmt}), params)
    assert response.status_code == 200, response.status_code
    return response


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def test_customer_export_in_csv_and_xlsx_honours_the_filter(client, finance):
    acme = CustomerFactory(name="Acme Ltd", external_ref="ACC-1")
    Contact.objects.create(customer=acme, name="Ann", email="ann@acme.example", phone="+44 1")
    CustomerFactory(name="Beta Stores")
    client.force_login(finance)
    rows = read_csv(export(client, "customers", "csv", q="acme"))
    assert rows[0][:2] == ["External reference", "Company name"]
    assert [row[1] for row in rows[1:]] == ["Acme Ltd"]
    assert rows[1][-4:] == ["Ann", "ann@acme.example", "'+44 1", "primary"]
    sheet = read_xlsx(export(client, "customers", "xlsx"))
    assert [row[1] for row in sheet[1:]] == ["Acme Ltd", "Beta Stores"]
    assert sheet[1][5] == 30  # payment terms stay a number


def test_exported_cells_never_run_as_formulas(client, manager):
    CustomerFactory(name='=HYPERLINK("http://evil.example","Click")')
    CustomerFactory(name="@SUM(1+1)")
    client.force_login(manager)
    names = [row[1] for row in read_csv(export(client, "customers", "csv"))[1:]]
    assert names == ['\'=HYPERLINK("http://evil.example","Click")', "'@SUM(1+1)"]
    workbook = openpyxl.load_workbook(
        io.BytesIO(export(client, "customers", "xlsx").content), read_only=False
    )
    cells = [row[1] for row in workbook.worksheets[0].iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert cells[0].value.startswith("'=")


def test_sales_exports_only_the_customers_they_may_see(client, sales, other_sales):
    CustomerFactory(name="Mine", account_manager=sales)
    CustomerFactory(name="Theirs", account_manager=other_sales)
    client.force_login(sales)
    assert [row[1] for row in read_csv(export(client, "customers", "csv"))[1:]] == ["Mine"]


def test_product_export_reimports_unchanged(client, manager):
    ProductFactory(code="A-1", name="Anchor", unit_price=Decimal("2.50"))
    ProductFactory(code="B-2", name="Bolt", unit_price=Decimal("0.10"), active=False)
    client.force_login(manager)
    active_only = read_xlsx(export(client, "products", "xlsx"))
    assert active_only[1][:3] == ["A-1", "Anchor", 2.5]
    assert len(active_only) == 2
    everything = export(client, "products", "csv", status="all")
    job = import_file("products", everything.content, by=manager)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 2)
    assert Product.objects.get(code="B-2").unit_price == Decimal("0.10")


def test_order_export_follows_the_search_and_reimports_unchanged(client, manager):
    kept = advance_order(place_order(manager, title="Shop fit"), "in_progress", by=manager)
    other = place_order(manager, title="Kitchen", customer=CustomerFactory(name="Zed Ltd"))
    client.force_login(manager)
    rows = read_csv(export(client, "orders", "csv", q=kept.number))
    assert [row[0] for row in rows[1:]] == [kept.number]
    assert rows[1][3] == "In progress"
    sheet = read_xlsx(export(client, "orders", "xlsx"))
    assert {row[0] for row in sheet[1:]} == {kept.number, other.number}
    assert sheet[1][9] == float(other.net_total)
    job = import_file("orders", export(client, "orders", "csv").content, by=manager)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created_count, job.unchanged_count) == (0, 2)


def test_search_page_offers_its_exports_with_its_query(client, sales):
    client.force_login(sales)
    page = client.get(reverse("orders:search"), {"q": "acme ltd"}).content.decode()
    assert (
        reverse("imports:export", kwargs={"kind": "orders", "fmt": "csv"}) + "?q=acme%20ltd" in page
    )


def test_unknown_export_kind_or_format_is_not_found(client, manager):
    client.force_login(manager)
    assert client.get("/imports/export/invoices.csv").status_code == 404
    assert client.get("/imports/export/customers.pdf").status_code == 404


@pytest.mark.parametrize("count", [10, 100])
def test_list_pages_and_exports_keep_their_query_count(
    client, manager, django_assert_max_num_queries, count
):
    for n in range(count):
        customer = CustomerFactory()
        Contact.objects.create(customer=customer, name=f"C{n}", email=f"c{n}@example.com")
        ProductFactory()
    for _ in range(count // 10):
        place_order(manager)
    client.force_login(manager)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("customers:list"))
    assert page.status_code == 200 and "Export Excel" in page.content.decode()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("imports:products")).status_code == 200
    for kind in ("customers", "products", "orders"):
        with django_assert_max_num_queries(10):
            export(client, kind, "xlsx")


def test_each_export_is_written_to_the_audit_log_with_its_filters(client, finance):
    from oms.audit.models import AuditEntry

    client.force_login(finance)
    export(client, "customers", "xlsx", q="acme")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.actor == finance
    assert entry.details["filename"].startswith("customers-")
    assert entry.details["filename"].endswith(".xlsx")
    assert entry.details["query"] == "q=acme"


def test_products_are_in_the_menu_for_staff(client, operations):
    client.force_login(operations)
    page = client.get(reverse("imports:products")).content.decode()
    assert f'href="{reverse("imports:products")}"' in page
    assert "Import</a>" not in page  # operations may not import


def test_customer_export_reimports_unchanged(client, manager, sales):
    acme = CustomerFactory(name="Acme Ltd", external_ref="ACC-1", account_manager=sales)
    Contact.objects.create(customer=acme, name="Ann", email="ann@acme.example", phone="+44 1")
    Contact.objects.create(customer=acme, name="Bill", email="bill@acme.example", role="billing")
    CustomerFactory(name="-Dash Ltd", tax_number="GB1")
    client.force_login(manager)
    for fmt in ("csv", "xlsx"):
        job = import_file("customers", export(client, "customers", fmt).content, by=manager)
        assert job.status == ImportJob.Status.DONE, job.errors
        assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 2)
    assert Contact.objects.get(name="Ann").phone == "+44 1"
