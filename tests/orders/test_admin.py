"""The admin moves orders only through the services: actions transition, record and
publish; refusals are reported and write nothing; the timeline is read-only."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from quotes.models import Quote
from tests.conftest import PASSWORD
from tests.factories import (
    ContactFactory,
    ProductFactory,
    advance_order,
    place_order,
    send_new_quote,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.login(request=HttpRequest(), email=admin_user.email, password=PASSWORD)
    return client


def act(client, action: str, *orders, **fields):
    return client.post(
        reverse("admin:orders_order_changelist"),
        {"action": action, "_selected_action": [o.pk for o in orders], **fields},
        follow=True,
    )


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_confirm_action_goes_through_the_service(admin_client, admin_user, sales):
    order = place_order(sales)
    act(admin_client, "confirm", order)
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    event = order.timeline.get(to_state="confirmed")
    assert event.actor == admin_user
    assert OutboxEvent.objects.filter(kind="order.confirmed", order_id=order.pk).exists()


def test_hold_action_takes_reason_and_resume_date(admin_client, sales, manager):
    order = advance_order(place_order(sales), "in_progress", by=manager)
    resume = timezone.localdate() + timedelta(days=3)
    act(admin_client, "hold", order, reason="Scaffold down", resume_date=resume.isoformat())
    order.refresh_from_db()
    assert order.status == Order.Status.ON_HOLD
    assert (order.hold_reason, order.hold_resume_date) == ("Scaffold down", resume)


def test_refused_action_reports_the_reason_and_writes_nothing(admin_client, sales, manager):
    order = advance_order(place_order(sales), "on_hold", by=manager)
    before = TimelineEvent.objects.filter(order=order).count()
    response = act(admin_client, "deliver", order)
    order.refresh_from_db()
    assert order.status == Order.Status.ON_HOLD
    assert any("on hold" in text for text in texts(response))
    assert TimelineEvent.objects.filter(order=order).count() == before


def test_action_needing_a_reason_refuses_without_one(admin_client, sales):
    order = place_order(sales)
    response = act(admin_client, "lose", order)
    order.refresh_from_db()
    assert order.status == Order.Status.ENQUIRY
    assert any("reason" in text for text in texts(response))


def test_order_page_shows_state_read_only(admin_client, sales):
    order = place_order(sales)
    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    assert 'name="status"' not in response.content.decode()


def test_editing_details_records_a_change(admin_client, sales):
    order = place_order(sales)
    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    form = response.context["adminform"].form
    data = {
        name: form.initial.get(name) or ""
        for name in form.fields
        if form.initial.get(name) is not None
    }
    data.update({"title": "Renamed in admin", "metadata": "{}", "owner": sales.pk})
    for prefix in ("lines", "timeline"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    admin_client.post(reverse("admin:orders_order_change", args=[order.pk]), data)
    order.refresh_from_db()
    assert order.title == "Renamed in admin"
    assert order.timeline.filter(kind="change", message__contains="title").exists()


def test_editing_an_order_on_hold_is_refused(admin_client, sales, manager):
    order = advance_order(place_order(sales), "on_hold", by=manager)
    data = {
        "title": "Changed while held",
        "owner": sales.pk,
        "metadata": "{}",
        "kind": "product",
        "source": "other",
    }
    for prefix in ("lines", "timeline"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = admin_client.post(reverse("admin:orders_order_change", args=[order.pk]), data)
    assert response.status_code == 200
    assert "on hold" in response.content.decode()
    order.refresh_from_db()
    assert order.title == "Fit-out"


def test_adding_an_order_captures_an_enquiry(admin_client, sales):
    customer = ContactFactory().customer
    response = admin_client.post(
        reverse("admin:orders_order_add"),
        {
            "customer": customer.pk,
            "title": "From the admin",
            "owner": sales.pk,
            "kind": "service",
            "source": "phone",
            "metadata": "{}",
            **{
                f"{p}-{n}": 0
                for p in ("lines", "timeline")
                for n in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    order = Order.objects.get(title="From the admin")
    assert order.number.startswith("ORD-")
    assert order.status == Order.Status.ENQUIRY
    assert OutboxEvent.objects.filter(kind="order.created", order_id=order.pk).exists()


def test_timeline_admin_cannot_add_change_or_delete(admin_client, sales):
    order = place_order(sales)
    event = order.timeline.first()
    assert admin_client.get(reverse("admin:orders_timelineevent_add")).status_code == 403
    page = admin_client.get(reverse("admin:orders_timelineevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="message"' not in page.content.decode()
    assert (
        admin_client.post(
            reverse("admin:orders_timelineevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert TimelineEvent.objects.filter(pk=event.pk).exists()


def test_orders_cannot_be_deleted_in_the_admin(admin_client, sales):
    order = place_order(sales)
    response = admin_client.post(
        reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def test_quote_actions_go_through_the_services(admin_client, sales):
    order = place_order(sales)
    quote = send_new_quote(order, sales)
    admin_client.post(
        reverse("admin:quotes_quote_changelist"),
        {"action": "accept", "_selected_action": [quote.pk], "name": "Jane Buyer", "po": "P1"},
    )
    quote.refresh_from_db()
    order.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert order.status == Order.Status.CONFIRMED


def test_draft_quote_action_on_orders(admin_client, sales):
    order = place_order(sales)
    act(admin_client, "draft_quote", order)
    assert order.quotes.get().status == Quote.Status.DRAFT


def test_product_archive_action(admin_client):
    product = ProductFactory()
    admin_client.post(
        reverse("admin:orders_product_changelist"),
        {"action": "archive", "_selected_action": [product.pk]},
    )
    product.refresh_from_db()
    assert not product.active


def test_customer_archive_action(admin_client):
    customer = ContactFactory().customer
    admin_client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "archive", "_selected_action": [customer.pk]},
    )
    customer.refresh_from_db()
    assert customer.archived_at is not None


@pytest.mark.parametrize(
    "url",
    [
        "admin:orders_order_changelist",
        "admin:orders_product_changelist",
        "admin:orders_timelineevent_changelist",
        "admin:quotes_quote_changelist",
        "admin:customers_customer_changelist",
        "admin:customers_contact_changelist",
        "admin:orders_order_add",
    ],
)
def test_admin_pages_load(admin_client, sales, url):
    send_new_quote(place_order(sales), sales)
    assert admin_client.get(reverse(url)).status_code == 200


@pytest.mark.parametrize(
    "model", ["proofofdelivery", "fieldvisit", "milestone", "changerequest", "orderattachment"]
)
def test_fulfilment_records_are_listed_read_only(admin_client, model):
    listing = admin_client.get(f"/admin/orders/{model}/")
    assert listing.status_code == 200
    assert admin_client.get(f"/admin/orders/{model}/add/").status_code == 403
