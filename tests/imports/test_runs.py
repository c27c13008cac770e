"""Running an import: idempotent re-imports, all-or-nothing files, skipping invalid rows,
customers with their contacts, and who may import what."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from customers.models import Contact, Customer
from oms.imports import services
from oms.imports.models import ColumnMapping, ImportJob
from oms.outbox.models import OutboxEvent
from orders.models import Product
from tests.factories import CustomerFactory, ProductFactory
from tests.imports.conftest import csv_bytes, import_file, xlsx_bytes

pytestmark = pytest.mark.django_db

PRODUCT_ROWS = [
    ["SKU", "Description", "Price", "VAT rate", "Unit", "Kind"],
    ["P-1", "Widget", "12.50", "20", "each", "goods"],
    ["P-2", "Fitting (per hour)", "45", "20%", "hour", "Time"],
    ["P-3", "Survey", "£1,200.00", "0", "each", "service"],
]

CUSTOMER_ROWS = [
    ["Account", "Company", "Type", "Terms", "Contact", "Email", "Phone", "Contact role"],
    ["ACC-1", "Acme Ltd", "Trade", "30", "Ann Able", "ann@acme.example", "0113 1", "primary"],
    ["ACC-1", "Acme Ltd", "Trade", "30", "Bill Baker", "Bill@Acme.example", "", "billing"],
    ["", "Beta Stores", "retail", "14", "Cara Cole", "cara@beta.example", "", ""],
]


def test_products_import_with_decimal_prices_and_guessed_columns(manager):
    job = import_file("products", csv_bytes(PRODUCT_ROWS), by=manager)
    assert (job.status, job.created_count, job.updated_count) == ("done", 3, 0)
    survey = Product.objects.get(code="P-3")
    assert survey.unit_price == Decimal("1200.00")
    assert survey.kind == Product.Kind.SERVICE
    assert Product.objects.get(code="P-2").kind == Product.Kind.TIME
    assert Product.objects.get(code="P-2").unit == "hour"
    finished = OutboxEvent.objects.get(kind="import.finished")
    assert finished.payload["created"] == 3


def test_reimporting_the_same_file_updates_and_never_duplicates(manager):
    import_file("products", csv_bytes(PRODUCT_ROWS), by=manager)
    again = import_file("products", xlsx_bytes(PRODUCT_ROWS), by=manager)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert Product.objects.count() == 3
    changed = [row[:] for row in PRODUCT_ROWS]
    changed[1][2] = "13.00"
    third = import_file("products", csv_bytes(changed), by=manager)
    assert (third.created_count, third.updated_count, third.unchanged_count) == (0, 1, 2)
    assert Product.objects.get(code="P-1").unit_price == Decimal("13.00")
    assert Product.objects.count() == 3


def test_customers_with_contacts_reimport_without_duplicates(manager, sales):
    import_file("customers", csv_bytes(CUSTOMER_ROWS), by=sales)
    acme = Customer.objects.get(external_ref="ACC-1")
    assert sorted(acme.contacts.values_list("email", "role")) == [
        ("ann@acme.example", "primary"),
        ("bill@acme.example", "billing"),
    ]
    beta = Customer.objects.get(name="Beta Stores")
    assert beta.segment == Customer.Segment.RETAIL
    assert beta.payment_terms_days == 14

    again = import_file("customers", xlsx_bytes(CUSTOMER_ROWS), by=sales)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert Customer.objects.count() == 2
    assert Contact.objects.count() == 3


def test_customer_without_reference_matches_on_name_and_email(manager):
    existing = CustomerFactory(name="Gamma Ltd")
    Contact.objects.create(customer=existing, name="Gil", email="gil@gamma.example")
    rows = [["Company", "Email", "Phone"], ["GAMMA LTD", "gil@gamma.example", "0200"]]
    job = import_file("customers", csv_bytes(rows), by=manager)
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Contact.objects.get(email="gil@gamma.example").phone == "0200"
    assert Customer.objects.count() == 1


def test_one_invalid_row_stops_the_whole_file(manager):
    rows = [*PRODUCT_ROWS, ["P-4", "Broken", "twelve", "20", "each", "goods"]]
    job = import_file("products", csv_bytes(rows), by=manager)
    assert job.status == ImportJob.Status.REJECTED
    assert "1 of 4 rows are invalid, so nothing was imported" in job.message
    assert job.errors == [{"row": 5, "message": "Unit price 'twelve' is not a number."}]
    assert not Product.objects.exists()


def test_skip_invalid_rows_imports_the_rest_and_lists_the_skipped(manager):
    rows = [
        *PRODUCT_ROWS,
        ["P-4", "Broken", "twelve", "20", "each", "goods"],
        ["P-5", "Odd", "1", "20", "each", "gadget"],
        ["P-1", "Twice", "1", "20", "each", "goods"],
    ]
    job = import_file("products", csv_bytes(rows), by=manager, skip_invalid=True)
    assert (job.status, job.created_count, job.skipped_count) == ("done", 3, 3)
    assert [error["row"] for error in job.errors] == [5, 6, 7]
    assert "not one of: goods, service, time" in job.errors[1]["message"]
    assert "appears again (first on row 2)" in job.errors[2]["message"]
    assert sorted(Product.objects.values_list("code", flat=True)) == ["P-1", "P-2", "P-3"]


def test_customer_row_errors_name_the_reason(manager):
    rows = [
        ["Company", "Email", "Account manager", "Terms", "Currency"],
        ["Good Ltd", "good@example.com", "", "30", "gbp"],
        ["Bad Email Ltd", "not-an-email", "", "", ""],
        ["", "nameless@example.com", "", "", ""],
        ["Who Ltd", "", "ghost@example.com", "", ""],
        ["Terms Ltd", "", "", "thirty", "POUNDS"],
    ]
    job = import_file("customers", csv_bytes(rows), by=manager, skip_invalid=True)
    reasons = {error["row"]: error["message"] for error in job.errors}
    assert reasons[3] == "Contact email 'not-an-email' is not a valid email address."
    assert reasons[4] == "Company name is required."
    assert reasons[5] == "Account manager ghost@example.com is not a user of the OMS."
    assert "Payment terms (days) 'thirty' is not a whole number." in reasons[6]
    assert "Currency 'POUNDS' is not a three-letter code" in reasons[6]
    assert Customer.objects.get().currency == "GBP"


def test_a_crash_midway_leaves_nothing_written(manager, settings):
    """A database failure on the second batch rolls back the first batch too."""
    settings.IMPORT_INLINE_MAX_ROWS = 5000
    rows = [["Code", "Name", "Price"]] + [[f"C{i:05d}", "Thing", "1"] for i in range(2500)]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_product() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER refuse_product BEFORE INSERT ON orders_product
            FOR EACH ROW WHEN (NEW.code = 'C01500') EXECUTE FUNCTION refuse_product();
            """
        )
    job = import_file("products", csv_bytes(rows), by=manager)
    assert job.status == ImportJob.Status.FAILED
    assert "disk full" in job.message and "nothing was saved" in job.message
    assert job.created_count == 0
    assert not Product.objects.exists()
    assert not OutboxEvent.objects.filter(kind="import.finished").exists()


def test_archived_product_comes_back_only_when_the_file_says_so(manager):
    ProductFactory(code="OLD", name="Old", active=False)
    keep = import_file(
        "products", csv_bytes([["Code", "Name", "Price"], ["OLD", "Old", "100"]]), by=manager
    )
    assert keep.unchanged_count == 1
    assert not Product.objects.get(code="OLD").active
    rows = [["Code", "Name", "Price", "Active"], ["OLD", "Old", "100", "yes"]]
    import_file("products", csv_bytes(rows), by=manager)
    restored = Product.objects.get(code="OLD")
    assert restored.active and restored.archived_at is None


def test_sales_may_import_customers_but_not_products(sales, operations):
    with pytest.raises(PermissionDenied):
        services.start_import(kind="products", name="p.csv", data=csv_bytes(PRODUCT_ROWS), by=sales)
    with pytest.raises(PermissionDenied):
        services.start_import(
            kind="customers", name="c.csv", data=csv_bytes(CUSTOMER_ROWS), by=operations
        )
    assert import_file("customers", csv_bytes(CUSTOMER_ROWS), by=sales).status == "done"


def test_mapping_is_remembered_per_person_and_kind(manager):
    rows = [["Ref", "Item", "Cost"], ["X1", "Widget", "5"]]
    job = services.start_import(kind="products", name="p.csv", data=csv_bytes(rows), by=manager)
    assert "unit_price" not in job.mapping  # "Cost" means nothing yet
    services.set_mapping(job, {"code": "Ref", "name": "Item", "unit_price": "Cost"}, by=manager)
    assert ColumnMapping.objects.get(user=manager, kind="products").mapping["unit_price"] == "Cost"
    next_time = services.start_import(
        kind="products", name="p2.csv", data=csv_bytes(rows), by=manager
    )
    assert next_time.mapping == {"code": "Ref", "name": "Item", "unit_price": "Cost"}


def test_customers_a_salesperson_imports_are_theirs_to_see(sales, manager):
    import_file("customers", csv_bytes([["Company"], ["Sold Ltd"]]), by=sales)
    import_file("customers", csv_bytes([["Company"], ["Unassigned Ltd"]]), by=manager)
    assert Customer.objects.get(name="Sold Ltd").account_manager == sales
    assert Customer.objects.get(name="Unassigned Ltd").account_manager is None
    assert list(Customer.objects.visible_to(sales).values_list("name", flat=True)) == ["Sold Ltd"]


@pytest.mark.parametrize(
    ("written", "price"),
    [("1,200.50", "1200.50"), ("12,50", "12.50"), ("£3", "3.00"), ("7", "7.00")],
)
def test_prices_read_as_people_write_them(manager, written, price):
    import_file("products", csv_bytes([["Code", "Name", "Price"], ["P", "W", written]]), by=manager)
    assert Product.objects.get().unit_price == Decimal(price)


def test_an_ambiguous_number_is_refused_not_guessed(manager):
    rows = [["Code", "Name", "Price"], ["P", "W", "1,2,3"]]
    job = import_file("products", csv_bytes(rows), by=manager)
    assert job.errors == [{"row": 2, "message": "Unit price '1,2,3' is not a number."}]


def test_an_email_too_long_to_store_is_refused(manager):
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    job = import_file(
        "customers", csv_bytes([["Company", "Email"], ["Long Ltd", address]]), by=manager
    )
    assert job.errors == [{"row": 2, "message": "Contact email is longer than 254 characters."}]


def test_rows_of_one_company_without_a_reference_make_one_customer(manager):
    rows = [
        ["Company", "Contact", "Email"],
        ["Delta Ltd", "Dee", "dee@delta.example"],
        ["DELTA LTD", "Dan", "dan@delta.example"],
    ]
    import_file("customers", csv_bytes(rows), by=manager)
    delta = Customer.objects.get()
    assert sorted(delta.contacts.values_list("email", flat=True)) == [
        "dan@delta.example",
        "dee@delta.example",
    ]
    again = import_file("customers", csv_bytes(rows), by=manager)
    assert (again.created_count, again.unchanged_count) == (0, 1)
    assert Contact.objects.count() == 2
