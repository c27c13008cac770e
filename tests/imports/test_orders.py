"""Open orders imported mid-lifecycle enter the state machine at their stated stage, with
their lines and a timeline event saying they were imported."""

from decimal import Decimal

import pytest

from oms.imports.models import ImportJob
from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from orders.services import deliver_order, resume_order, start_work
from tests.factories import CustomerFactory, ProductFactory, advance_order, place_order
from tests.imports.conftest import csv_bytes, import_file, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADERS = [
    "Job no",
    "Customer",
    "Title",
    "Status",
    "PO",
    "Agreed date",
    "SKU",
    "Line description",
    "Qty",
    "Unit price",
    "Discount",
]


@pytest.fixture
def catalogue(db):
    CustomerFactory(name="Acme Ltd", external_ref="ACC-1")
    CustomerFactory(name="Beta Stores")
    ProductFactory(code="W-1", name="Widget", unit_price=Decimal("10.00"))


def order_rows():
    return [
        HEADERS,
        ["J-100", "ACC-1", "Shop fit", "Confirmed", "PO-9", "31/12/2030", "W-1", "", "3", "", ""],
        [
            "J-100",
            "ACC-1",
            "Shop fit",
            "Confirmed",
            "PO-9",
            "31/12/2030",
            "",
            "Labour",
            "2",
            "40",
            "10",
        ],
        ["J-101", "Beta Stores", "Kitchen", "in progress", "", "", "W-1", "", "1", "12.5", ""],
        ["J-102", "beta stores", "Repairs", "On hold", "", "", "", "Visit", "1", "90", ""],
        ["J-103", "ACC-1", "Delivered job", "delivered", "", "", "W-1", "", "4", "", ""],
        ["J-104", "ACC-1", "New enquiry", "enquiry", "", "", "", "", "", "", ""],
    ]


def test_orders_enter_the_state_machine_at_their_stage(catalogue, manager):
    job = import_file("orders", csv_bytes(order_rows()), by=manager)
    assert (job.status, job.created_count) == ("done", 5), job.errors
    orders = {o.metadata["import_ref"]: o for o in Order.objects.all()}

    confirmed = orders["J-100"]
    assert confirmed.status == Order.Status.CONFIRMED
    assert confirmed.confirmed_at is not None and confirmed.number.startswith("ORD-")
    assert confirmed.customer.external_ref == "ACC-1"
    assert confirmed.owner == manager
    assert confirmed.po_reference == "PO-9"
    assert str(confirmed.agreed_date) == "2030-12-31"
    lines = list(confirmed.lines.order_by("position"))
    assert [(line.description, line.quantity, line.unit_price) for line in lines] == [
        ("Widget", Decimal("3.000"), Decimal("10.00")),
        ("Labour", Decimal("2.000"), Decimal("40.00")),
    ]
    assert confirmed.net_total == Decimal("102.00")  # 30 + 80 less 10%
    assert confirmed.gross_total == Decimal("122.40")

    assert orders["J-101"].status == Order.Status.IN_PROGRESS
    held = orders["J-102"]
    assert (held.status, held.held_from, held.hold_reason) == (
        "on_hold",
        "confirmed",
        "On hold when imported.",
    )
    delivered = orders["J-103"]
    assert delivered.status == Order.Status.DELIVERED
    assert delivered.lines.get().delivered_quantity == Decimal("4.000")
    assert orders["J-104"].status == Order.Status.ENQUIRY


def test_each_imported_order_says_so_on_its_timeline_and_in_the_outbox(catalogue, manager):
    import_file("orders", csv_bytes(order_rows()), by=manager, name="old-jobs.csv")
    order = Order.objects.get(metadata__import_ref="J-101")
    event = TimelineEvent.objects.get(order=order)
    assert event.kind == TimelineEvent.Kind.TRANSITION
    assert (event.from_state, event.to_state, event.actor) == ("", "in_progress", manager)
    assert (
        event.message
        == "Imported from old-jobs.csv (their reference J-101), in progress at import."
    )
    assert event.details["imported"] is True
    assert OutboxEvent.objects.filter(kind="order.imported").count() == 5
    # Imports announce nothing to customers: no transition events are published.
    assert not OutboxEvent.objects.filter(kind__in=["order.confirmed", "order.started"]).exists()


def test_imported_orders_carry_on_through_the_ordinary_services(catalogue, manager):
    import_file("orders", csv_bytes(order_rows()), by=manager)
    started = deliver_order(Order.objects.get(metadata__import_ref="J-101"), by=manager)
    assert started.status == Order.Status.DELIVERED
    resumed = resume_order(Order.objects.get(metadata__import_ref="J-102"), by=manager)
    assert resumed.status == Order.Status.CONFIRMED
    assert start_work(resumed, by=manager).status == Order.Status.IN_PROGRESS


def test_reimporting_orders_matches_on_reference_and_duplicates_nothing(catalogue, manager):
    import_file("orders", csv_bytes(order_rows()), by=manager)
    numbers = set(Order.objects.values_list("number", flat=True))
    again = import_file("orders", xlsx_bytes(order_rows()), by=manager)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 5)
    assert set(Order.objects.values_list("number", flat=True)) == numbers
    renamed = order_rows()
    renamed[1][2] = renamed[2][2] = "Shop fit-out"
    third = import_file("orders", csv_bytes(renamed), by=manager)
    assert third.updated_count == 1
    order = Order.objects.get(metadata__import_ref="J-100")
    assert order.title == "Shop fit-out"
    change = order.timeline.get(kind=TimelineEvent.Kind.CHANGE)
    assert change.details["changes"]["title"] == ["Shop fit", "Shop fit-out"]


def test_an_order_already_moved_on_is_not_moved_by_a_reimport(catalogue, manager):
    import_file("orders", csv_bytes(order_rows()), by=manager)
    start_work(Order.objects.get(metadata__import_ref="J-100"), by=manager)
    job = import_file("orders", csv_bytes(order_rows()), by=manager)
    assert job.status == ImportJob.Status.REJECTED
    assert job.errors[0]["message"].endswith(
        "is already in progress in the OMS; an import sets the stage only of the orders it creates."
    )
    assert Order.objects.get(metadata__import_ref="J-100").status == "in_progress"


def test_orders_matched_by_oms_number_update_in_place(manager):
    order = advance_order(place_order(manager, title="Old title"), "confirmed", by=manager)
    rows = [
        ["Order number", "Customer", "Title", "Stage"],
        [order.number, order.customer.name, "New title", "confirmed"],
    ]
    job = import_file("orders", csv_bytes(rows), by=manager)
    assert (job.created_count, job.updated_count) == (0, 1)
    order.refresh_from_db()
    assert order.title == "New title"


def test_invalid_order_rows_name_their_reason_and_take_the_whole_order_with_them(
    catalogue, manager
):
    rows = [
        HEADERS,
        ["J-1", "Nobody Ltd", "A", "confirmed", "", "", "W-1", "", "1", "", ""],
        ["J-2", "ACC-1", "B", "shipped", "", "", "W-1", "", "1", "", ""],
        ["J-3", "ACC-1", "C", "invoiced", "", "", "W-1", "", "1", "", ""],
        ["J-4", "ACC-1", "D", "confirmed", "", "", "NOPE", "", "1", "", ""],
        ["J-5", "ACC-1", "E", "confirmed", "", "", "", "Labour", "1", "ten", ""],
        ["J-5", "ACC-1", "E", "confirmed", "", "", "W-1", "", "1", "", ""],
        ["J-6", "ACC-1", "F", "confirmed", "", "30/02/2030", "W-1", "", "0", "", ""],
        ["J-7", "ACC-1", "G", "delivered", "", "", "", "", "", "", ""],
        ["J-8", "ACC-1", "H", "confirmed", "", "", "W-1", "", "2", "", ""],
    ]
    job = import_file("orders", csv_bytes(rows), by=manager, skip_invalid=True)
    reasons = {error["row"]: error["message"] for error in job.errors}
    assert reasons[2] == "Unknown customer 'Nobody Ltd': import the customer first."
    assert reasons[3].startswith("Stage 'shipped' is not known; use one of: enquiry, quoted,")
    assert "only open orders are imported" in reasons[4]
    assert reasons[5] == "Unknown product code 'NOPE'."
    assert reasons[6] == "Unit price 'ten' is not a number."
    assert reasons[7] == "Not imported with the rest of order J-5: row 6 is invalid."
    assert "Agreed date '30/02/2030' is not a date" in reasons[8]
    assert "Quantity 0 is below 0.001." in reasons[8]
    assert reasons[9] == "An order in progress or delivered needs its lines."
    assert (job.created_count, job.skipped_count) == (1, 8)
    assert list(Order.objects.values_list("title", flat=True)) == ["H"]


def test_imported_orders_take_consecutive_numbers_and_the_series_carries_on(catalogue, manager):
    before = place_order(manager)
    import_file("orders", csv_bytes(order_rows()), by=manager)
    after = place_order(manager)
    numbers = sorted(Order.objects.values_list("number", flat=True))
    digits = [int(number.rsplit("-", 1)[1]) for number in numbers]
    assert digits == list(range(digits[0], digits[0] + 7))
    assert numbers[0] == before.number and numbers[-1] == after.number


def test_an_order_too_large_to_store_is_refused_not_crashed(catalogue, manager):
    rows = [
        HEADERS,
        ["J-1", "ACC-1", "Huge", "confirmed", "", "", "", "X", "999999999", "9999999", ""],
    ]
    job = import_file("orders", csv_bytes(rows), by=manager)
    assert job.status == ImportJob.Status.REJECTED
    assert "is too large" in job.errors[0]["message"]


def test_an_exported_customer_name_guarded_against_formulas_still_matches(manager):
    CustomerFactory(name="-Dash Ltd")
    rows = [["Ref", "Customer", "Title", "Stage"], ["J-1", "'-Dash Ltd", "Job", "enquiry"]]
    job = import_file("orders", csv_bytes(rows), by=manager)
    assert job.created_count == 1, job.errors
    assert Order.objects.get().customer.name == "-Dash Ltd"
