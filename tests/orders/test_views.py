import json
from datetime import date

import pytest
from django.urls import reverse

from oms.links import services as links
from oms.links.models import CustomerLink
from orders import services
from orders.models import Order
from tests.factories import ContactFactory, CustomerFactory, advance_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(sales):
    customer = CustomerFactory(name="Harbour Bakery", account_manager=sales)
    ContactFactory(customer=customer, name="Bea Baker", email="bea@harbour.example")
    return customer


@pytest.fixture
def order(sales, customer):
    return place_order(
        sales,
        customer=customer,
        title="Oven install",
        specification="Two deck ovens, 3-phase",
        delivery_address="5 Quay Street, Hull",
        requested_date=date(2026, 12, 1),
        agreed_date=date(2026, 12, 3),
        special_instructions="Use the rear entrance",
        po_reference="PO-7781",
    )


def _detail(order):
    return reverse("orders:detail", kwargs={"number": order.number})


def _action(order, name):
    return reverse("orders:transition", kwargs={"number": order.number, "name": name})


def test_order_page_answers_where_is_my_order(client, sales, manager, order):
    order = advance_order(order, "confirmed", by=manager)
    client.force_login(sales)
    response = client.get(_detail(order))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="confirmed"' in body
    assert "Confirmed" in body
    for detail in (
        "Harbour Bakery",
        "Two deck ovens, 3-phase",
        "5 Quay Street, Hull",
        "Use the rear entrance",
        "PO-7781",
        "3 Dec 2026",
        "1 Dec 2026",
        "Widget",
        "bea@harbour.example",
    ):
        assert detail in body
    assert 'id="order-timeline"' in body
    assert body.count('class="kind-transition"') == 2  # captured, confirmed


def test_order_page_lists_quotes_invoices_and_payments(client, finance, manager, order):
    from invoicing.services import approve_invoice, draft_invoice_for_order, record_payment
    from tests.factories import send_new_quote

    send_new_quote(order, manager)
    order = advance_order(Order.objects.get(pk=order.pk), "delivered", by=manager)
    invoice = approve_invoice(draft_invoice_for_order(order, by=finance), by=finance)
    record_payment(invoice, by=finance, amount=invoice.gross_total - 20, reference="BACS 1")
    client.force_login(finance)
    body = client.get(_detail(order)).content.decode()
    assert f"{order.number}-Q1" in body
    assert invoice.number in body
    assert "BACS 1" in body
    assert "Proof of delivery" in body
    assert "Site manager" in body


@pytest.mark.parametrize("who", ["other_sales", "outsider"])
def test_order_page_of_someone_elses_order_is_not_found(client, request, order, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_detail(order)).status_code == 404


def test_order_page_requires_login(client, order):
    response = client.get(_detail(order))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_buttons_come_from_the_state_machine_for_the_user(
    client, sales, operations, manager, order
):
    order = advance_order(order, "confirmed", by=manager)
    client.force_login(operations)
    body = client.get(_detail(order)).content.decode()
    assert _action(order, "start_work") in body
    assert _action(order, "hold") in body
    assert _action(order, "cancel") not in body  # managers only
    client.force_login(sales)
    body = client.get(_detail(order)).content.decode()
    assert _action(order, "start_work") not in body


def test_automatic_transitions_have_no_button_and_no_route(client, manager, order):
    order = advance_order(order, "delivered", by=manager)
    client.force_login(manager)
    body = client.get(_detail(order)).content.decode()
    assert "Mark invoiced" not in body
    response = client.post(_action(order, "mark_invoiced"), {"status": "delivered"})
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == "delivered"


def test_transition_without_javascript_redirects_with_a_message(client, operations, manager, order):
    order = advance_order(order, "confirmed", by=manager)
    client.force_login(operations)
    response = client.post(_action(order, "start_work"), {"status": "confirmed"}, follow=True)
    assert response.redirect_chain[-1][0] == _detail(order)
    assert "now in progress" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "in_progress"
    assert order.timeline.filter(to_state="in_progress", actor=operations).count() == 1


def test_transition_with_htmx_answers_with_the_header_and_a_trigger(
    client, operations, manager, order
):
    order = advance_order(order, "confirmed", by=manager)
    client.force_login(operations)
    response = client.post(
        _action(order, "hold"),
        {"status": "confirmed", "reason": "Waiting for parts", "resume_date": "2026-12-20"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="order-header"')
    assert 'data-status="on_hold"' in body
    assert "order-changed" in json.loads(response["HX-Trigger"])
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == ("on_hold", "Waiting for parts")
    assert order.hold_resume_date == date(2026, 12, 20)


def test_transition_needing_a_reason_is_refused_without_one(client, operations, manager, order):
    order = advance_order(order, "in_progress", by=manager)
    client.force_login(operations)
    response = client.post(
        _action(order, "hold"), {"status": "in_progress", "reason": " "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="action-error"' in body
    assert "reason" in body.split('id="action-error">')[1].split("</p>")[0]
    assert "HX-Trigger" not in response
    assert Order.objects.get(pk=order.pk).status == "in_progress"


def test_stale_page_gets_order_changed(client, operations, manager, order):
    order = advance_order(order, "confirmed", by=manager)
    services.start_work(order, by=manager)
    client.force_login(operations)
    response = client.post(
        _action(order, "start_work"), {"status": "confirmed"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "This order changed while you were working on it." in response.content.decode()
    plain = client.post(_action(order, "start_work"), {"status": "confirmed"}, follow=True)
    assert "Reload and try again." in plain.content.decode()


def test_role_refusal_is_a_clear_message(client, sales, manager, order):
    order = advance_order(order, "confirmed", by=manager)
    client.force_login(sales)
    response = client.post(
        _action(order, "start_work"), {"status": "confirmed"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    error = response.content.decode().split('id="action-error">')[1].split("</p>")[0]
    assert "role" in error
    assert Order.objects.get(pk=order.pk).status == "confirmed"


def test_transition_on_someone_elses_order_is_not_found(client, other_sales, order):
    client.force_login(other_sales)
    response = client.post(_action(order, "lose"), {"status": "enquiry", "reason": "x"})
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == "enquiry"


def test_deliver_from_the_page_records_proof(client, operations, manager, order):
    order = advance_order(order, "in_progress", by=manager)
    client.force_login(operations)
    client.post(
        _action(order, "deliver"),
        {"status": "in_progress", "received_by": "Dock foreman", "proof": "Signed note 88"},
    )
    order.refresh_from_db()
    assert (order.status, order.delivered_to, order.delivery_proof) == (
        "delivered",
        "Dock foreman",
        "Signed note 88",
    )


def test_htmx_asks_for_one_region(client, sales, order):
    client.force_login(sales)
    response = client.get(_detail(order) + "?partial=order-timeline", HTTP_HX_REQUEST="true")
    assert (
        response.content.decode().lstrip().startswith('<section class="card" id="order-timeline"')
    )
    assert "Vary" in response and "HX-Request" in response["Vary"]


def test_staff_get_and_revoke_a_tracking_link(client, sales, order):
    client.force_login(sales)
    response = client.post(reverse("orders:link_issue", kwargs={"number": order.number}))
    assert response.status_code == 302
    link = CustomerLink.objects.get(order_id=order.pk, purpose="tracking")
    assert link.created_by == sales
    revoke = reverse("orders:link_revoke", kwargs={"number": order.number, "link_id": link.pk})
    response = client.post(revoke, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Order tracking link revoked." in response.content.decode()
    link.refresh_from_db()
    assert link.revoked_by == sales


def test_revoking_another_orders_link_is_not_found(client, sales, customer, order):
    other = place_order(sales, customer=customer)
    link = links.issue_link(other, purpose="tracking")
    client.force_login(sales)
    url = reverse("orders:link_revoke", kwargs={"number": order.number, "link_id": link.pk})
    assert client.post(url).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def _page_queries(client, order, user, notes: int) -> int:
    for n in range(notes - order.timeline.count()):
        services.add_note(order, by=user, message=f"Called the customer ({n})")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(_detail(order)).status_code == 200
    return len(captured)


def test_order_page_query_count_is_constant(client, django_assert_max_num_queries, sales, order):
    client.force_login(sales)
    at_10 = _page_queries(client, order, sales, 10)
    at_100 = _page_queries(client, order, sales, 100)
    assert at_10 == at_100
    with django_assert_max_num_queries(at_10):
        response = client.get(_detail(order))
    assert response.content.decode().count('<li class="kind-') == 100


def test_order_page_shows_the_next_scheduled_follow_up(client, sales, order):
    from oms.outbox.runner import drain
    from tests.factories import send_new_quote

    client.force_login(sales)
    assert 'id="next-action"' not in client.get(_detail(order)).content.decode()
    send_new_quote(order, sales)
    drain()
    body = client.get(_detail(order)).content.decode()
    assert 'id="next-action"' in body
