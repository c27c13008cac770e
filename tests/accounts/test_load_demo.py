from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse

from customers.models import Contact, Customer
from invoicing.models import Invoice
from oms.outbox.models import OutboxEvent
from orders.models import ORDER_STATES, Order, Product, TimelineEvent
from quotes.models import Quote

pytestmark = pytest.mark.django_db


def load_demo():
    call_command("load_demo", "--allow-production", stdout=open("/dev/null", "w"))  # noqa: SIM115


def snapshot() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Customer, Contact, Product, Order, Quote, Invoice, TimelineEvent, OutboxEvent)
    }


def test_demo_has_an_order_at_every_lifecycle_stage():
    load_demo()
    stages = Counter(Order.objects.values_list("status", flat=True))
    assert set(stages) == set(ORDER_STATES)


def test_second_run_changes_nothing(django_user_model):
    load_demo()
    before = snapshot()
    users = list(django_user_model.objects.values_list("email", "password", "last_login"))
    load_demo()
    assert snapshot() == before
    assert list(django_user_model.objects.values_list("email", "password", "last_login")) == users


def test_orders_moved_through_services_by_role_users():
    load_demo()
    paid = Order.objects.get(metadata__demo="paid-server-room")
    actors = {
        (event.to_state, event.actor.email)
        for event in paid.timeline.filter(kind=TimelineEvent.Kind.TRANSITION).select_related(
            "actor"
        )
        if event.actor
    }
    assert ("in_progress", "operations@example.com") in actors
    assert ("delivered", "operations@example.com") in actors
    assert paid.timeline.filter(actor__email="finance@example.com", message__contains="Payment")
    assert OutboxEvent.objects.filter(kind="order.paid", order_id=paid.pk).exists()
    invoice = paid.invoices.get()
    assert invoice.number.startswith("INV-")
    assert invoice.amount_paid == invoice.gross_total
    cancelled = Order.objects.get(status=Order.Status.CANCELLED)
    assert cancelled.timeline.filter(to_state="cancelled", actor__email="manager@example.com")


@pytest.mark.parametrize(
    ("email", "role"),
    [
        ("sales@example.com", "Sales"),
        ("operations@example.com", "Operations"),
        ("finance@example.com", "Finance"),
        ("manager@example.com", "Manager"),
        ("admin@example.com", "Admin"),
    ],
)
def test_each_demo_user_logs_in_with_demo_password(client, email, role):
    load_demo()
    response = client.post(
        reverse("accounts:login"), {"username": email, "password": "demo"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:home")
    assert f'data-role="{role}"'.encode() in response.content


def test_admin_may_manage_users_in_django_admin(client):
    load_demo()
    client.login(request=HttpRequest(), username="admin@example.com", password="demo")
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_refused_with_debug_off_unless_allowed(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo")
    assert not Order.objects.exists()
