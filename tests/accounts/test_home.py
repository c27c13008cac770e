from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from invoicing.services import approve_invoice, draft_invoice_for_order, send_invoice
from oms.accounts.queries import home_panels
from orders.services import (
    confirm_order,
    create_enquiry,
    deliver_order,
    set_order_lines,
    start_work,
)
from quotes.services import create_quote, send_quote
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def enquiry(sales, title="Boiler service", customer=None):
    order = create_enquiry(customer=customer or CustomerFactory(), title=title, by=sales)
    line = {"description": "Labour", "quantity": Decimal("2"), "unit_price": Decimal("50.00")}
    return set_order_lines(order, [line], by=sales)


def delivered(sales, operations, title="Delivered job"):
    order = confirm_order(enquiry(sales, title), by=sales)
    order = start_work(order, by=operations)
    return deliver_order(order, by=operations)


def panel_keys(user) -> list[str]:
    return [panel.key for panel in home_panels(user)]


def test_each_role_sees_its_own_queues_first(cast):
    assert panel_keys(cast["sales"]) == ["enquiries", "quotes-awaiting"]
    assert panel_keys(cast["operations"]) == ["confirmed-queue", "in-progress"]
    assert panel_keys(cast["finance"]) == [
        "draft-invoices",
        "overdue-invoices",
        "awaiting-invoice",
    ]
    everything = [
        "pipeline",
        "enquiries",
        "quotes-awaiting",
        "confirmed-queue",
        "in-progress",
        "draft-invoices",
        "overdue-invoices",
        "awaiting-invoice",
    ]
    assert panel_keys(cast["manager"]) == everything
    assert panel_keys(cast["admin"]) == everything
    assert panel_keys(cast["outsider"]) == []


def test_sales_home_lists_my_enquiries_and_quotes_awaiting(client, sales, other_sales):
    enquiry(sales, "Mine, still an enquiry")
    quoted = enquiry(sales, "Mine, quoted")
    send_quote(create_quote(quoted, by=sales), by=sales)
    enquiry(other_sales, "Someone else's")
    client.force_login(sales)

    response = client.get(reverse("accounts:home"))

    content = response.content.decode()
    assert "Mine, still an enquiry" in content
    assert "Mine, quoted" in content
    assert "Someone else&#x27;s" not in content
    panels = {panel.key: panel for panel in response.context["panels"]}
    assert panels["enquiries"].count == 1
    assert panels["quotes-awaiting"].count == 1
    mine = panels["enquiries"].rows[0]
    assert mine.href == reverse("orders:detail", kwargs={"number": mine.label.split(" · ")[0]})


def test_operations_home_shows_confirmed_queue(client, sales, operations):
    confirm_order(enquiry(sales, "Ready to start"), by=sales)
    start_work(confirm_order(enquiry(sales, "Under way"), by=sales), by=operations)
    client.force_login(operations)

    response = client.get(reverse("accounts:home"))

    panels = {panel.key: panel for panel in response.context["panels"]}
    assert [row.label.split(" · ")[1] for row in panels["confirmed-queue"].rows] == [
        "Ready to start"
    ]
    assert panels["in-progress"].count == 1


def test_finance_home_shows_drafts_and_overdue(client, sales, operations, finance):
    draft_invoice_for_order(delivered(sales, operations, "Drafted"), by=finance)
    overdue_order = delivered(sales, operations, "Unpaid")
    invoice = draft_invoice_for_order(overdue_order, by=finance)
    issued = send_invoice(approve_invoice(invoice, by=finance), by=finance)
    delivered(sales, operations, "Not yet drafted")

    with time_machine.travel(issued.due_date + timedelta(days=10)):
        client.force_login(finance)
        response = client.get(reverse("accounts:home"))

    panels = {panel.key: panel for panel in response.context["panels"]}
    assert panels["draft-invoices"].count == 1
    assert panels["overdue-invoices"].count == 1
    assert panels["overdue-invoices"].total == Decimal("120.00")
    assert panels["awaiting-invoice"].count == 1
    assert "days late" in response.content.decode()


def test_manager_pipeline_counts_and_values_open_orders(client, sales, manager):
    enquiry(sales)
    enquiry(sales)
    confirm_order(enquiry(sales), by=sales)
    client.force_login(manager)

    response = client.get(reverse("accounts:home"))

    pipeline = response.context["panels"][0]
    assert pipeline.key == "pipeline"
    rows = {row.label: row for row in pipeline.rows}
    assert rows["Enquiry"].detail == "2 orders"
    assert rows["Enquiry"].amount == Decimal("240.00")
    assert rows["Confirmed"].detail == "1 order"
    assert pipeline.total == Decimal("360.00")
    assert response.context["summary"]["won"] == 1


def test_outsider_is_told_they_have_no_role(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 200
    assert b"no role yet" in response.content


@pytest.mark.parametrize("rows", [10, 100])
def test_manager_home_query_count_does_not_grow_with_orders(
    client, sales, manager, rows, django_assert_max_num_queries
):
    customer = CustomerFactory(account_manager=sales)
    for n in range(rows):
        create_enquiry(customer=customer, title=f"Enquiry {n}", by=sales)
    client.force_login(manager)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("accounts:home"))
    assert response.status_code == 200


def test_navigation_lists_own_role_first_and_skips_missing_pages(rf, sales):
    from oms.accounts import context_processors

    request = rf.get("/")
    request.user = sales
    original = list(context_processors.NAVIGATION)
    try:
        context_processors.NAVIGATION.append(("Nowhere", "orders:no_such_page", None))
        items = context_processors.navigation(request)["nav_items"]
    finally:
        context_processors.NAVIGATION[:] = original
    labels = [item["label"] for item in items]
    assert "Nowhere" not in labels
    assert labels[0] == "Home"
    assert items[0]["active"]
