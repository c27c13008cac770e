"""Orders through the API: capture, read, filter, and transitions by name with the same
services, permissions and errors as the order page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from oms.outbox.models import OutboxEvent
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, advance_order, place_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


def transition(client, number: str, name: str, **data):
    return client.post(f"{ORDERS}/{number}/transitions/{name}", data, format="json")


# --- capture -----------------------------------------------------------------------------


def test_sales_captures_an_enquiry_with_lines(api, sales):
    customer = CustomerFactory()
    product = ProductFactory(unit_price=Decimal("80.00"))
    response = api["sales"].post(
        ORDERS,
        {
            "customer": customer.pk,
            "title": "Shop fit-out",
            "source": "web",
            "lines": [
                {"product": product.pk, "quantity": "2"},
                {"description": "Fitting", "quantity": "1.5", "unit_price": "40.00"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "enquiry"
    assert body["owner"] == sales.email
    assert [line["description"] for line in body["lines"]] == [product.name, "Fitting"]
    assert body["net_total"] == "220.00" and body["gross_total"] == "264.00"
    assert {a["name"] for a in body["actions"]} == {"confirm", "lose"}
    order = Order.objects.get(number=body["number"])
    assert order.timeline.filter(message="Enquiry captured.").exists()
    kinds = set(OutboxEvent.objects.filter(order_id=order.pk).values_list("kind", flat=True))
    assert {"order.created", "order.lines_changed"} <= kinds


@pytest.mark.parametrize("role", ["operations", "finance"])
def test_only_sales_captures_enquiries(api, role):
    response = api[role].post(
        ORDERS, {"customer": CustomerFactory().pk, "title": "Nope"}, format="json"
    )
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_invalid_enquiry_gets_a_message_per_field_and_nothing_is_saved(api):
    response = api["sales"].post(
        ORDERS,
        {
            "customer": 999999,
            "title": "",
            "kind": "spaceship",
            "lines": [{"description": "Widget", "quantity": "0", "unit_price": "-1"}],
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {
        "customer",
        "title",
        "kind",
        "lines.0.quantity",
        "lines.0.unit_price",
    }
    assert "more than zero" in errors["lines.0.quantity"][0]
    assert not Order.objects.exists()


def test_a_line_the_service_refuses_leaves_no_enquiry_behind(api):
    archived = ProductFactory(active=False)
    response = api["sales"].post(
        ORDERS,
        {
            "customer": CustomerFactory().pk,
            "title": "Old stock",
            "lines": [{"product": archived.pk, "quantity": "1"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "archived" in response.json()["detail"]
    assert not Order.objects.exists()


# --- reading and filtering ---------------------------------------------------------------


def test_detail_has_lines_state_and_the_callers_actions(api, sales):
    order = place_order(sales)
    body = api["operations"].get(f"{ORDERS}/{order.number}").json()
    assert body["status"] == "enquiry" and body["status_label"] == "Enquiry"
    assert body["lines"][0]["quantity"] == "2.000"
    assert body["actions"] == []  # operations may not confirm or lose an enquiry
    assert [a["name"] for a in api["sales"].get(f"{ORDERS}/{order.number}").json()["actions"]] == [
        "confirm",
        "lose",
    ]


def test_salespeople_see_only_their_own_orders(api, sales, other_sales):
    mine = place_order(sales)
    theirs = place_order(other_sales)
    numbers = [o["number"] for o in api["sales"].get(ORDERS).json()["results"]]
    assert numbers == [mine.number]
    assert api["sales"].get(f"{ORDERS}/{theirs.number}").status_code == 404
    assert transition(api["sales"], theirs.number, "confirm").status_code == 404
    assert api["sales"].get(f"{ORDERS}/{theirs.number}/timeline").status_code == 404
    assert api["finance"].get(f"{ORDERS}/{theirs.number}").status_code == 200


def test_list_filters_by_state_customer_and_updated_since(api, manager):
    customer = CustomerFactory()
    enquiry = place_order(manager, customer=customer)
    confirmed = advance_order(place_order(manager), "confirmed", by=manager)
    other = place_order(manager)
    Order.objects.filter(pk=other.pk).update(updated_at=timezone.now() - timedelta(days=3))
    client = api["manager"]

    def numbers(**params):
        response = client.get(ORDERS, params)
        assert response.status_code == 200, response.json()
        return {o["number"] for o in response.json()["results"]}

    assert numbers(status="confirmed") == {confirmed.number}
    assert numbers(customer=customer.pk) == {enquiry.number}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert numbers(updated_since=since) == {enquiry.number, confirmed.number}
    assert numbers(status="enquiry", updated_since=since) == {enquiry.number}


def test_bad_filters_are_400_per_field(api):
    response = api["manager"].get(
        ORDERS, {"status": "nonsense", "updated_since": "yesterday", "customer": "x"}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "updated_since", "customer"}


def test_list_is_paginated_with_a_ceiling(api, manager):
    for _ in range(3):
        place_order(manager)
    page = api["manager"].get(ORDERS, {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    huge = api["manager"].get(ORDERS, {"page_size": 100000}).json()
    assert len(huge["results"]) == 3
    assert api["manager"].get(ORDERS, {"page": 99}).status_code == 404


@pytest.mark.parametrize("rows", [10, 100])
def test_order_list_query_count_is_flat(api, manager, rows, django_assert_max_num_queries):
    customer = CustomerFactory()
    for _ in range(rows):
        place_order(manager, customer=customer)
    # token, last-used stamp, roles, count, page, lines
    with django_assert_max_num_queries(7):
        response = api["manager"].get(ORDERS, {"page_size": 200})
    assert len(response.json()["results"]) == rows


def test_timeline_lists_what_happened(api, manager):
    order = advance_order(place_order(manager), "in_progress", by=manager)
    events = api["manager"].get(f"{ORDERS}/{order.number}/timeline").json()["results"]
    assert [(e["from_state"], e["to_state"]) for e in events if e["kind"] == "transition"] == [
        ("", "enquiry"),
        ("enquiry", "confirmed"),
        ("confirmed", "in_progress"),
    ]
    assert events[-1]["actor"] == str(manager)


# --- transitions -------------------------------------------------------------------------


def test_transitions_move_the_order_through_the_services(api, sales, operations):
    order = place_order(sales)
    response = transition(api["sales"], order.number, "confirm", status="enquiry")
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert transition(api["operations"], order.number, "start_work").json()["status"] == (
        "in_progress"
    )
    response = transition(
        api["operations"], order.number, "deliver", received_by="Site manager", proof="Signed"
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "delivered" and order.delivered_to == "Site manager"
    kinds = list(
        OutboxEvent.objects.filter(order_id=order.pk, kind__startswith="order.")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds[-3:] == ["order.confirmed", "order.started", "order.delivered"]
    assert order.timeline.filter(to_state="delivered", actor=operations).exists()


def test_transition_not_allowed_now_is_409_listing_the_allowed_ones(api, sales):
    order = place_order(sales)
    response = transition(api["sales"], order.number, "deliver")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert body["current_state"] == "enquiry"
    assert [t["name"] for t in body["allowed_transitions"]] == ["confirm", "lose"]
    assert "Allowed next steps" in body["detail"]
    order.refresh_from_db()
    assert order.status == "enquiry"


def test_role_that_may_not_is_403(api, sales):
    order = place_order(sales)
    response = transition(api["operations"], order.number, "confirm")
    assert response.status_code == 403
    assert "may not" in response.json()["detail"]
    confirmed = advance_order(place_order(sales), "confirmed", by=sales)
    assert transition(api["sales"], confirmed.number, "start_work").status_code == 403
    assert transition(api["operations"], confirmed.number, "cancel", reason="x").status_code == 403


def test_missing_reason_is_400_on_the_reason_field(api, sales):
    order = place_order(sales)
    response = transition(api["sales"], order.number, "lose", reason="  ")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    assert transition(api["sales"], order.number, "lose", reason="Too dear").status_code == 200
    order.refresh_from_db()
    assert order.status == "lost" and order.closed_reason == "Too dear"


def test_hold_takes_a_resume_date(api, manager):
    order = advance_order(place_order(manager), "in_progress", by=manager)
    bad = transition(api["manager"], order.number, "hold", reason="Parts", resume_date="soon")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["resume_date"]
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    bad = transition(api["manager"], order.number, "hold", reason="Parts", resume_date=past)
    assert bad.json()["errors"] == {
        "resume_date": ["The expected resume date cannot be in the past."]
    }
    when = (timezone.localdate() + timedelta(days=5)).isoformat()
    response = transition(api["manager"], order.number, "hold", reason="Parts", resume_date=when)
    assert response.status_code == 200
    assert response.json()["hold_resume_date"] == when
    assert transition(api["manager"], order.number, "resume").json()["status"] == "in_progress"


def test_stale_state_is_409_order_changed(api, sales):
    order = place_order(sales)
    response = transition(api["sales"], order.number, "confirm", status="quoted")
    assert response.status_code == 409
    assert response.json()["code"] == "order_changed"
    order.refresh_from_db()
    assert order.status == "enquiry"


def test_unknown_transition_is_404(api, sales):
    order = place_order(sales)
    response = transition(api["sales"], order.number, "teleport")
    assert response.status_code == 404
    assert "confirm" in response.json()["detail"]


def test_delivering_without_lines_is_refused_with_a_sentence(api, manager):
    order = advance_order(place_order(manager, lines=[]), "in_progress", by=manager)
    response = transition(api["manager"], order.number, "deliver")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": [f"Order {order.number} has no lines to deliver."]
    }


# --- changing details and lines ------------------------------------------------------------


def test_details_change_through_the_service_with_a_timeline_entry(api, sales):
    order = place_order(sales)
    response = api["sales"].patch(
        f"{ORDERS}/{order.number}", {"po_reference": "PO-77", "title": "Bigger fit-out"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["po_reference"] == "PO-77"
    change = order.timeline.filter(kind="change").latest("id")
    assert change.details["changes"]["po_reference"] == ["", "PO-77"]
    assert api["finance"].patch(f"{ORDERS}/{order.number}", {"title": "x"}).status_code == 403
    assert api["sales"].patch(f"{ORDERS}/{order.number}", {"title": " "}).status_code == 400
    assert api["sales"].patch(f"{ORDERS}/{order.number}", {}).status_code == 400


def test_closed_order_details_are_refused(api, sales):
    order = advance_order(place_order(sales), "lost", by=sales)
    response = api["sales"].patch(f"{ORDERS}/{order.number}", {"po_reference": "PO-1"})
    assert response.status_code == 400
    assert "cannot change any more" in response.json()["detail"]


def test_lines_are_replaced_while_the_order_is_open_for_pricing(api, sales):
    order = place_order(sales)
    lines = {"lines": [{"description": "Survey", "quantity": "1", "unit_price": "250.00"}]}
    response = api["sales"].put(f"{ORDERS}/{order.number}/lines", lines)
    assert response.status_code == 200, response.json()
    assert response.json()["gross_total"] == "300.00"
    assert [line["description"] for line in response.json()["lines"]] == ["Survey"]
    assert api["operations"].put(f"{ORDERS}/{order.number}/lines", lines).status_code == 403
    confirmed = advance_order(place_order(sales), "confirmed", by=sales)
    refused = api["sales"].put(f"{ORDERS}/{confirmed.number}/lines", lines)
    assert refused.status_code == 400
    assert "can no longer be changed" in refused.json()["detail"]


def test_unknown_api_paths_answer_in_json(api):
    for path in ("/api/v1/nothing-here", f"{ORDERS}/ORD-1/transitions/Confirm"):
        response = api["sales"].get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
