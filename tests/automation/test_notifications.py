"""Notifications on transitions, customer updates, invoice drafting on delivery, the inbox."""

from decimal import Decimal

import pytest
from django.urls import reverse

from invoicing.models import Invoice
from oms.automation.models import EmailLog, Notification
from oms.outbox.models import HandlerRun, OutboxEvent
from oms.outbox.runner import run
from orders import services as orders
from orders.models import Order, TimelineEvent
from tests.factories import line_data

pytestmark = pytest.mark.django_db


def _fresh(order):
    return Order.objects.get(pk=order.pk)


def test_confirmation_tells_operations_with_every_order_detail(order_for, operations, run_outbox):
    order = order_for(
        "confirmed",
        lines=[line_data(description="Oak desk", quantity=Decimal("3"))],
        po_reference="PO-778",
        special_instructions="Use the side gate",
    )
    run_outbox()
    note = Notification.objects.get(user=operations)
    assert note.title == f"Order {order.number} confirmed: Fit-out"
    for detail in ("Oak desk", "PO-778", "Use the side gate", "Brightwell Ltd", "Total: GBP"):
        assert detail in note.body
    assert note.url.endswith(f"/orders/{order.number}/")
    assert EmailLog.objects.filter(to=operations.email, order=order).count() == 1


def test_staff_who_turned_email_off_get_only_the_inbox(order_for, operations, run_outbox):
    operations.notify_by_email = False
    operations.save()
    order = order_for("confirmed")
    run_outbox()
    assert Notification.objects.filter(user=operations).count() == 1
    assert not EmailLog.objects.filter(to=operations.email, order=order).exists()


def test_handlers_run_twice_notify_once(order_for, operations, run_outbox, mailoutbox):
    order_for("confirmed")
    run_outbox()
    sent = len(mailoutbox)
    event = OutboxEvent.objects.get(kind="order.confirmed")
    for handler_run in HandlerRun.objects.filter(event=event):
        assert run(event.pk, handler_run.handler) == "already done"
    assert len(mailoutbox) == sent
    assert Notification.objects.filter(user=operations).count() == 1


def test_delivery_drafts_the_invoice_once_and_tells_finance(order_for, finance, run_outbox):
    order = order_for("delivered")
    run_outbox()
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == Invoice.Status.DRAFT
    assert invoice.gross_total == order.gross_total
    note = Notification.objects.get(user=finance)
    assert note.title == f"Draft invoice ready for {order.number}"
    entry = TimelineEvent.objects.filter(order=order, automation="invoice drafting").get()
    assert "drafted" in entry.message.lower()
    # the same event handled again (a redelivered message) makes no second draft
    from invoicing.handlers import draft_invoice

    draft_invoice(OutboxEvent.objects.get(kind="order.delivered"))
    assert Invoice.objects.filter(order=order).count() == 1


def test_hold_and_cancel_tell_the_owner_why(order_for, sales, manager, run_outbox):
    order = order_for("in_progress")
    orders.hold_order(_fresh(order), by=manager, reason="Site closed for asbestos survey")
    run_outbox()
    held = Notification.objects.get(user=sales, title=f"On hold: {order.number}")
    assert "asbestos survey" in held.body
    orders.cancel_order(_fresh(order), by=manager, reason="Customer withdrew")
    run_outbox()
    cancelled = Notification.objects.get(user=sales, title=f"Cancelled: {order.number}")
    assert "Customer withdrew" in cancelled.body


def test_customer_hears_of_confirmation_start_and_delivery_with_a_tracking_link(
    order_for, run_outbox
):
    order = order_for("delivered")
    run_outbox()
    updates = EmailLog.objects.filter(order=order, to="pat@brightwell.example").order_by("id")
    assert [e.subject for e in updates] == [
        f"Order {order.number} confirmed",
        f"Work has started on {order.number}",
        f"Order {order.number} delivered",
    ]
    assert all("/orders/track/" in e.body_text for e in updates)
    assert all("/orders/track/" in e.body_html for e in updates)


def test_customers_who_opted_out_get_no_status_emails(order_for, customer, run_outbox):
    customer.status_emails_opt_out = True
    customer.save()
    order = order_for("delivered")
    run_outbox()
    assert not EmailLog.objects.filter(order=order, to__endswith="@brightwell.example").exists()


def test_every_automated_message_is_on_the_timeline(order_for, operations, run_outbox):
    order = order_for("confirmed")
    run_outbox()
    entries = TimelineEvent.objects.filter(order=order, kind="communication")
    names = {e.automation for e in entries}
    assert {"Order confirmed: tell operations", "Customer update: order confirmed"} <= names
    update = entries.get(automation="Customer update: order confirmed")
    assert update.details["recipients"] == ["pat@brightwell.example"]
    assert update.details["subject"] == f"Order {order.number} confirmed"
    assert update.actor_label == "Customer update: order confirmed"


def test_html_twin_escapes_customer_supplied_text(order_for, customer, run_outbox):
    contact = customer.contacts.get(email="pat@brightwell.example")
    contact.name = "<script>alert(1)</script> Pat"
    contact.save()
    order = order_for("confirmed")
    run_outbox()
    email = EmailLog.objects.get(order=order, to="pat@brightwell.example")
    assert "<script>" not in email.body_html
    assert "&lt;script&gt;" in email.body_html


# --- the inbox ----------------------------------------------------------------------------


def test_inbox_lists_notifications_and_badge_counts_unread(
    client, order_for, operations, run_outbox
):
    order = order_for("confirmed")
    run_outbox()
    client.force_login(operations)
    page = client.get(reverse("automation:inbox"))
    assert page.status_code == 200
    assert f"Order {order.number} confirmed" in page.content.decode()
    badge = client.get(reverse("automation:badge"))
    assert 'data-testid="unread-count">1<' in badge.content.decode()
    assert 'hx-trigger="every 30s' in badge.content.decode()


def test_marking_read_clears_the_badge(client, order_for, operations, run_outbox):
    order_for("confirmed")
    run_outbox()
    note = Notification.objects.get(user=operations)
    client.force_login(operations)
    response = client.post(
        reverse("automation:notification_read", kwargs={"pk": note.pk}), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="inbox-list"' in response.content.decode()
    note.refresh_from_db()
    assert note.read_at is not None
    assert "unread-count" not in client.get(reverse("automation:badge")).content.decode()


def test_nobody_reads_someone_elses_notification(
    client, order_for, operations, finance, run_outbox
):
    order_for("confirmed")
    run_outbox()
    note = Notification.objects.get(user=operations)
    client.force_login(finance)
    response = client.post(reverse("automation:notification_read", kwargs={"pk": note.pk}))
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read(client, order_for, operations, run_outbox):
    order_for("confirmed")
    order_for("confirmed")
    run_outbox()
    client.force_login(operations)
    client.post(reverse("automation:read_all"))
    assert not Notification.objects.filter(user=operations, read_at__isnull=True).exists()


def test_inbox_query_count_is_flat(
    client, order_for, operations, run_outbox, django_assert_max_num_queries
):
    for _ in range(3):
        order_for("confirmed")
    run_outbox()
    client.force_login(operations)
    with django_assert_max_num_queries(8):
        client.get(reverse("automation:inbox"))
