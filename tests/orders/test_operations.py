"""The confirmed-orders queue, assignment, partial deliveries, production runs and service
milestones that raise milestone invoices."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from invoicing.models import Invoice
from oms.outbox.runner import drain
from orders import queries, services
from orders.models import Order, TimelineEvent
from tests.conftest import make_user
from tests.factories import CustomerFactory, advance_order, line_data, place_order

pytestmark = pytest.mark.django_db


def _confirmed(manager, **fields):
    return advance_order(place_order(manager, **fields), "confirmed", by=manager)


def test_queue_lists_confirmed_in_progress_and_held_orders_only(manager):
    confirmed = _confirmed(manager)
    started = advance_order(place_order(manager), "in_progress", by=manager)
    held = advance_order(place_order(manager), "on_hold", by=manager)
    advance_order(place_order(manager), "delivered", by=manager)
    place_order(manager)  # an enquiry
    numbers = {o.number for o in queries.operations_queue()}
    assert numbers == {confirmed.number, started.number, held.number}


def test_queue_sorts_by_agreed_date_with_undated_orders_last(manager):
    today = date(2030, 6, 1)
    late = _confirmed(manager, agreed_date=today + timedelta(days=9))
    soon = _confirmed(manager, agreed_date=today + timedelta(days=1))
    undated = _confirmed(manager)
    assert [o.number for o in queries.operations_queue(today=today)] == [
        soon.number,
        late.number,
        undated.number,
    ]
    latest_first = queries.operations_queue(sort="-agreed", today=today)
    assert [o.number for o in latest_first][:2] == [late.number, soon.number]


def test_queue_flags_overdue_orders_and_special_instructions(client, manager, operations):
    overdue = _confirmed(
        manager, agreed_date=date.today() - timedelta(days=2), special_instructions="Ring first"
    )
    on_time = _confirmed(manager, agreed_date=date.today() + timedelta(days=5))
    rows = {o.number: o for o in queries.operations_queue()}
    assert rows[overdue.number].overdue and rows[overdue.number].has_instructions
    assert not rows[on_time.number].overdue and not rows[on_time.number].has_instructions
    client.force_login(operations)
    html = client.get(reverse("orders:queue")).content.decode()
    assert f'data-order="{overdue.number}" class="overdue"' in html
    assert "special instructions" in html
    assert f'data-order="{on_time.number}">' in html


def test_queue_filters_by_assignee_type_and_date(manager, operations):
    mine = _confirmed(manager, kind=Order.Kind.FIELD_JOB, agreed_date=date(2030, 3, 1))
    services.assign_order(mine, by=operations, assignee=operations)
    other = _confirmed(manager, kind=Order.Kind.SERVICE, agreed_date=date(2030, 4, 1))
    assert [o.pk for o in queries.operations_queue(assignee=str(operations.pk))] == [mine.pk]
    assert [o.pk for o in queries.operations_queue(assignee="none")] == [other.pk]
    assert [o.pk for o in queries.operations_queue(kind="service")] == [other.pk]
    march = queries.operations_queue(date_from=date(2030, 3, 1), date_to=date(2030, 3, 31))
    assert [o.pk for o in march] == [mine.pk]


def test_queue_page_filters_through_the_query_string(client, manager, operations):
    field = _confirmed(manager, kind=Order.Kind.FIELD_JOB)
    goods = _confirmed(manager, kind=Order.Kind.PRODUCT)
    client.force_login(operations)
    html = client.get(reverse("orders:queue"), {"kind": "field_job"}).content.decode()
    assert field.number in html and goods.number not in html


def test_queue_htmx_answers_with_the_table_partial(client, manager, operations):
    order = _confirmed(manager)
    client.force_login(operations)
    response = client.get(reverse("orders:queue"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue-table"')
    assert order.number in html


def test_queue_is_for_operations_only(client, sales, finance):
    for user in (sales, finance):
        client.force_login(user)
        assert client.get(reverse("orders:queue")).status_code == 403


def _many_confirmed(manager, count: int, **fields) -> list[Order]:
    customer = CustomerFactory()
    return [
        services.confirm_order(
            place_order(
                manager,
                customer=customer,
                agreed_date=date(2030, 1, 1) + timedelta(days=index),
                special_instructions="Gate code 1234" if index % 2 else "",
                **fields,
            ),
            by=manager,
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("count", [10, 120])
def test_queue_query_count_is_pinned(client, manager, operations, count, django_assert_num_queries):
    _many_confirmed(manager, count)
    client.force_login(operations)
    client.get(reverse("orders:queue"))  # warm the session
    # session, user, role check, staff list, the queue's count and one page of it,
    # whether 10 rows or 120
    with django_assert_num_queries(6):
        response = client.get(reverse("orders:queue"))
    assert response.content.decode().count("data-order=") == min(count, 50)


def _numbers(html: str) -> list[str]:
    return re.findall(r'data-order="([^"]+)"', html)


def test_queue_pages_fifty_orders_in_agreed_date_order(client, manager, operations):
    orders = _many_confirmed(manager, 63)
    client.force_login(operations)

    first = client.get(reverse("orders:queue")).content.decode()
    second = client.get(reverse("orders:queue"), {"page": "2"}).content.decode()

    assert _numbers(first) == [order.number for order in orders[:50]]
    assert _numbers(second) == [order.number for order in orders[50:]]
    assert "Page 1 of 2 · 63 in all" in first
    assert "Page 2 of 2 · 63 in all" in second
    assert 'href="?page=2" rel="next"' in first


def test_queue_page_links_keep_the_filters_in_the_htmx_table(client, manager, operations):
    jobs = _many_confirmed(manager, 55, kind=Order.Kind.FIELD_JOB)
    _many_confirmed(manager, 3, kind=Order.Kind.PRODUCT)
    client.force_login(operations)
    filters = {"kind": "field_job", "sort": "-agreed"}

    table = client.get(reverse("orders:queue"), filters, headers={"HX-Request": "true"})
    second = client.get(reverse("orders:queue"), {**filters, "page": "2"})

    html = table.content.decode()
    assert html.lstrip().startswith('<section id="queue-table"')
    assert "Page 1 of 2 · 55 in all" in html
    assert 'href="?kind=field_job&amp;sort=-agreed&amp;page=2"' in html
    newest_first = [order.number for order in reversed(jobs)]
    assert _numbers(html) == newest_first[:50]
    assert _numbers(second.content.decode()) == newest_first[50:]


def test_a_page_past_the_end_shows_the_last_page(client, manager, operations):
    orders = _many_confirmed(manager, 52)
    client.force_login(operations)

    html = client.get(reverse("orders:queue"), {"page": "9"}).content.decode()

    assert _numbers(html) == [order.number for order in orders[50:]]


def test_assign_records_old_and_new_assignee_on_the_timeline(
    manager, operations, django_user_model
):
    from oms.accounts.roles import Role

    colleague = make_user(django_user_model, "colin@example.com", Role.OPERATIONS)
    order = _confirmed(manager)
    services.assign_order(order, by=operations, assignee=operations)
    order = services.assign_order(order, by=operations, assignee=colleague)
    assert order.assignee == colleague
    event = order.timeline.filter(kind=TimelineEvent.Kind.CHANGE).last()
    assert event.details["changes"]["assignee"] == [str(operations), str(colleague)]


def test_assign_refused_for_sales_and_for_a_non_engineer(manager, sales, operations, finance):
    order = _confirmed(manager)
    with pytest.raises(PermissionDenied):
        services.assign_order(order, by=sales, assignee=operations)
    with pytest.raises(ValidationError, match="not in operations"):
        services.assign_order(order, by=operations, assignee=finance)


def test_assign_refused_before_confirmation(manager, operations):
    with pytest.raises(ValidationError, match="only confirmed"):
        services.assign_order(place_order(manager), by=operations, assignee=operations)


def test_assign_view_assigns_for_operations_and_refuses_sales(client, manager, sales, operations):
    order = _confirmed(manager, customer=CustomerFactory(account_manager=sales))
    url = reverse("orders:assign", args=[order.number])
    client.force_login(sales)
    assert client.post(url, {"assignee": operations.pk}).status_code == 403
    client.force_login(operations)
    assert client.post(url, {"assignee": operations.pk}).status_code == 302
    order.refresh_from_db()
    assert order.assignee == operations


def test_actions_start_hold_resume_deliver_rework_are_operations_only(
    client, manager, sales, operations
):
    order = _confirmed(manager, customer=CustomerFactory(account_manager=sales))
    url = reverse("orders:transition", args=[order.number, "start_work"])
    client.force_login(sales)
    client.post(url)
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    client.force_login(operations)
    client.post(url)
    hold = reverse("orders:transition", args=[order.number, "hold"])
    client.post(hold, {"reason": "Parts late", "resume_date": "2099-01-01"})
    order.refresh_from_db()
    assert order.status == Order.Status.ON_HOLD and order.hold_reason == "Parts late"
    client.post(reverse("orders:transition", args=[order.number, "resume"]))
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS


def test_partial_delivery_keeps_the_order_in_progress_until_every_line_is_delivered(
    manager, operations
):
    order = place_order(
        manager, lines=[line_data(quantity=Decimal("4")), line_data(description="Bracket")]
    )
    order = advance_order(order, "in_progress", by=manager)
    first, second = order.lines.all()
    order = services.record_line_delivery(order, {first.pk: Decimal("4")}, by=operations)
    assert order.status == Order.Status.IN_PROGRESS
    assert order.delivered_share == Decimal("0.6667")
    order = services.record_line_delivery(
        order, {second.pk: Decimal("2")}, by=operations, received_by="Goods in"
    )
    assert order.status == Order.Status.DELIVERED
    proof = order.proofs.get()
    assert proof.signer_name == "Goods in" and proof.delivered_by == operations


def test_completing_the_last_line_drafts_the_invoice_for_finance(manager, operations):
    order = advance_order(place_order(manager), "in_progress", by=manager)
    line = order.lines.get()
    services.record_line_delivery(order, {line.pk: line.quantity}, by=operations)
    drain()
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == Invoice.Status.DRAFT and invoice.kind == Invoice.Kind.FINAL


def test_line_delivery_view_records_quantities(client, manager, operations):
    order = advance_order(
        place_order(manager, lines=[line_data(quantity=Decimal("5"))]), "in_progress", by=manager
    )
    line = order.lines.get()
    client.force_login(operations)
    client.post(reverse("orders:line_delivery", args=[order.number]), {f"line-{line.pk}": "3"})
    line.refresh_from_db()
    assert line.delivered_quantity == Decimal("3")


def test_production_run_is_kept_on_the_order_and_shown_in_the_queue(client, manager, operations):
    order = _confirmed(manager, kind=Order.Kind.MANUFACTURING)
    services.set_production_run(order, by=operations, run_date=date(2030, 2, 3), status="planned")
    order.refresh_from_db()
    assert order.metadata["production_run"] == {"date": "2030-02-03", "status": "planned"}
    client.force_login(operations)
    assert "2030-02-03 · planned" in client.get(reverse("orders:queue")).content.decode()
    with pytest.raises(ValidationError):
        services.set_production_run(order, by=operations, run_date=None, status="exploded")


def test_signing_off_a_milestone_raises_a_milestone_invoice(manager, operations):
    order = _confirmed(manager, kind=Order.Kind.SERVICE)  # net 100.00
    milestone = services.add_milestone(
        order, by=manager, description="Design approved", percent=Decimal("40")
    )
    assert milestone.net_amount == Decimal("40.00")
    services.sign_off_milestone(milestone, by=operations)
    drain()
    drain()  # a second pass finds the invoice already raised
    invoice = Invoice.objects.get(order=order, kind=Invoice.Kind.MILESTONE)
    assert invoice.status == Invoice.Status.DRAFT
    assert invoice.net_total == Decimal("40.00")
    milestone.refresh_from_db()
    assert milestone.signed_off_by == operations


def test_a_milestone_signed_off_twice_is_refused(manager, operations):
    order = _confirmed(manager, kind=Order.Kind.SERVICE)
    milestone = services.add_milestone(
        order, by=manager, description="Kick-off", amount=Decimal("10")
    )
    services.sign_off_milestone(milestone, by=operations)
    with pytest.raises(ValidationError, match="already signed off"):
        services.sign_off_milestone(milestone, by=operations)


def test_milestone_needs_an_amount_or_a_percentage(manager):
    order = _confirmed(manager, kind=Order.Kind.SERVICE)
    with pytest.raises(ValidationError):
        services.add_milestone(order, by=manager, description="Neither")
    with pytest.raises(ValidationError):
        services.add_milestone(
            order, by=manager, description="Both", amount=Decimal("1"), percent=Decimal("1")
        )


def test_milestone_sign_off_is_refused_to_sales(manager, sales):
    order = _confirmed(manager, kind=Order.Kind.SERVICE)
    milestone = services.add_milestone(order, by=manager, description="Stage", amount=Decimal("5"))
    with pytest.raises(PermissionDenied):
        services.sign_off_milestone(milestone, by=sales)


def test_another_orders_milestone_id_is_not_found(client, manager, operations):
    order = _confirmed(manager, kind=Order.Kind.SERVICE)
    other = _confirmed(manager, kind=Order.Kind.SERVICE)
    milestone = services.add_milestone(other, by=manager, description="Stage", amount=Decimal("5"))
    client.force_login(operations)
    url = reverse("orders:milestone_sign_off", args=[order.number, milestone.pk])
    assert client.post(url).status_code == 404


def test_fulfilment_region_is_hidden_from_sales_who_do_not_own_the_order(
    client, manager, other_sales
):
    order = _confirmed(manager)
    client.force_login(other_sales)
    assert client.get(reverse("orders:fulfilment", args=[order.number])).status_code == 404


def test_order_page_loads_the_fulfilment_region(client, manager, operations):
    order = _confirmed(manager, special_instructions="Use the side door")
    services.assign_order(order, by=operations, assignee=operations)
    client.force_login(operations)
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert reverse("orders:fulfilment", args=[order.number]) in page
    region = client.get(
        reverse("orders:fulfilment", args=[order.number]), headers={"HX-Request": "true"}
    ).content.decode()
    assert region.lstrip().startswith('<section id="order-fulfilment"')
    assert str(operations) in region
