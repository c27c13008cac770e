"""Change requests on confirmed orders: drafted with a reason, approved by staff or by the
customer through a signed single-use link, shown as before/after, and never altering what
has already been delivered or invoiced."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from invoicing.services import approve_invoice, create_deposit_invoice
from oms.links.models import CustomerLink
from oms.links.services import issue_link
from orders import services
from orders.models import ChangeRequest, Order, TimelineEvent
from tests.factories import CustomerFactory, advance_order, line_data, place_order

pytestmark = pytest.mark.django_db


def _confirmed(manager, **fields):
    return advance_order(place_order(manager, **fields), "confirmed", by=manager)


def _lines_as_now(order) -> list[dict]:
    return [
        {
            "id": line.pk,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
        }
        for line in order.lines.all()
    ]


def test_change_request_starts_as_a_draft_and_leaves_the_order_alone(manager, sales):
    order = _confirmed(manager, customer=CustomerFactory(account_manager=sales))
    lines = [*_lines_as_now(order), line_data(description="Extra shelf")]
    change = services.create_change_request(order, by=sales, reason="Customer asked", lines=lines)
    assert change.status == ChangeRequest.Status.DRAFT
    assert change.before["gross_total"] == "120.00"
    assert change.after["gross_total"] == "240.00"
    order.refresh_from_db()
    assert order.gross_total == Decimal("120.00") and order.lines.count() == 1


def test_approving_updates_lines_totals_and_date_with_before_and_after_on_the_timeline(
    manager, operations
):
    order = _confirmed(manager, agreed_date=date(2030, 1, 10))
    lines = _lines_as_now(order)
    lines[0]["unit_price"] = Decimal("40.00")
    lines.append(line_data(description="Fitting", quantity=Decimal("1")))
    change = services.create_change_request(
        order, by=operations, reason="Price match", lines=lines, agreed_date=date(2030, 2, 1)
    )
    services.approve_change_request(change, by=operations)
    order.refresh_from_db()
    assert [line.description for line in order.lines.all()] == ["Widget", "Fitting"]
    assert order.net_total == Decimal("130.00") and order.gross_total == Decimal("156.00")
    assert order.agreed_date == date(2030, 2, 1)
    event = order.timeline.filter(kind=TimelineEvent.Kind.CHANGE).last()
    assert event.details["before"]["gross_total"] == "120.00"
    assert event.details["after"]["gross_total"] == "156.00"
    assert event.details["after"]["agreed_date"] == "2030-02-01"
    assert event.message.endswith(
        "Widget 2.000 @ 50.00 → 2.000 @ 40.00; added Fitting 1.000 @ 50.00; "
        "agreed date 2030-01-10 → 2030-02-01; total 120.00 → 156.00."
    )
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.APPROVED


def test_rejecting_leaves_the_order_unchanged(manager, operations):
    order = _confirmed(manager)
    change = services.create_change_request(
        order, by=operations, reason="Later", agreed_date=date(2031, 1, 1)
    )
    services.reject_change_request(change, by=operations, reason="Customer changed mind")
    order.refresh_from_db()
    assert order.agreed_date is None
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.REJECTED
    with pytest.raises(ValidationError, match="already rejected"):
        services.approve_change_request(change, by=operations)


def test_a_delivered_line_cannot_be_removed_or_cut_below_what_was_delivered(manager, operations):
    order = place_order(manager, lines=[line_data(quantity=Decimal("5")), line_data()])
    order = advance_order(order, "in_progress", by=manager)
    first, _second = order.lines.all()
    services.record_line_delivery(order, {first.pk: Decimal("3")}, by=operations)
    lines = _lines_as_now(order)
    with pytest.raises(ValidationError, match="cannot be removed"):
        services.create_change_request(order, by=operations, reason="Drop it", lines=lines[1:])
    lines[0]["quantity"] = Decimal("2")
    with pytest.raises(ValidationError, match="cannot go below"):
        services.create_change_request(order, by=operations, reason="Fewer", lines=lines)


def test_a_change_cannot_take_the_total_below_what_is_invoiced(manager, finance, operations):
    order = _confirmed(manager)  # gross 120.00
    deposit = create_deposit_invoice(order, by=finance, percent=Decimal("50"))
    approve_invoice(deposit, by=finance)
    lines = _lines_as_now(order)
    lines[0]["unit_price"] = Decimal("10.00")  # gross would be 24.00, below the 60.00 billed
    with pytest.raises(ValidationError, match="already invoiced"):
        services.create_change_request(order, by=operations, reason="Discount", lines=lines)


def test_an_approved_change_is_checked_again_against_invoices_raised_since(
    manager, finance, operations
):
    order = _confirmed(manager)
    lines = _lines_as_now(order)
    lines[0]["unit_price"] = Decimal("10.00")
    change = services.create_change_request(order, by=operations, reason="Cut", lines=lines)
    deposit = create_deposit_invoice(order, by=finance, percent=Decimal("50"))
    approve_invoice(deposit, by=finance)
    with pytest.raises(ValidationError, match="already invoiced"):
        services.approve_change_request(change, by=operations)
    order.refresh_from_db()
    assert order.gross_total == Decimal("120.00")


def test_changes_are_refused_before_confirmation_and_once_delivered(manager, operations):
    with pytest.raises(ValidationError, match="confirmed or in progress"):
        services.create_change_request(
            place_order(manager), by=operations, reason="x", agreed_date=date(2030, 1, 1)
        )
    delivered = advance_order(place_order(manager), "delivered", by=manager)
    with pytest.raises(ValidationError, match="confirmed or in progress"):
        services.create_change_request(
            delivered, by=operations, reason="x", agreed_date=date(2030, 1, 1)
        )


def test_finance_may_not_request_changes(manager, finance):
    order = _confirmed(manager)
    with pytest.raises(PermissionDenied):
        services.create_change_request(order, by=finance, reason="x", agreed_date=date(2030, 1, 1))


def test_a_reason_is_required(manager, operations):
    with pytest.raises(ValidationError, match="reason"):
        services.create_change_request(
            _confirmed(manager), by=operations, reason=" ", agreed_date=date(2030, 1, 1)
        )


def test_customer_approves_through_the_signed_link_once(client, manager, operations):
    order = _confirmed(manager)
    change = services.create_change_request(
        order, by=operations, reason="Install a week later", agreed_date=date(2030, 3, 8)
    )
    url = services.send_change_request(change, by=operations)
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.AWAITING_CUSTOMER
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    path = "/" + path
    page = client.get(path)
    assert page.status_code == 200 and "Install a week later" in page.content.decode()
    response = client.post(path, {"action": "approve", "name": "Pat Buyer"})
    assert "The change is approved" in response.content.decode()
    order.refresh_from_db()
    assert order.agreed_date == date(2030, 3, 8)
    change.refresh_from_db()
    assert change.decided_by_name == "Pat Buyer" and change.decided_by is None
    again = client.post(path, {"action": "reject", "name": "Pat Buyer"})
    assert "the link has been used" in again.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.APPROVED


def test_customer_approval_needs_a_typed_name(client, manager, operations):
    order = _confirmed(manager)
    change = services.create_change_request(
        order, by=operations, reason="Later", agreed_date=date(2030, 3, 8)
    )
    link = issue_link(change, purpose=CustomerLink.Purpose.CHANGE_REQUEST)
    path = reverse("orders:public_change_request", args=[link.token])
    response = client.post(path, {"action": "approve", "name": ""})
    assert response.status_code == 422
    assert "Type your name" in response.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.DRAFT


def test_a_tampered_change_link_is_not_found(client):
    assert client.get(reverse("orders:public_change_request", args=["nope"])).status_code == 404


def test_change_form_drafts_a_request_from_the_order(client, manager, operations):
    order = _confirmed(manager)
    line = order.lines.get()
    client.force_login(operations)
    url = reverse("orders:change_create", args=[order.number])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            f"quantity-{line.pk}": "3",
            f"price-{line.pk}": "50.00",
            "new-description-0": "Delivery",
            "new-quantity-0": "1",
            "new-price-0": "25.00",
            "new-tax-0": "0",
            "reason": "Customer wants a third",
        },
    )
    assert response.status_code == 302
    change = order.change_requests.get()
    assert change.after["net_total"] == "175.00"
    assert [row["description"] for row in change.after["lines"]] == ["Widget", "Delivery"]


def test_change_form_explains_a_refusal(client, manager, operations):
    order = _confirmed(manager)
    client.force_login(operations)
    response = client.post(reverse("orders:change_create", args=[order.number]), {"reason": "x"})
    assert response.status_code == 422
    assert "changes the lines or the agreed date" in response.content.decode()


def test_another_orders_change_request_id_is_not_found(client, manager, operations):
    order = _confirmed(manager)
    other = _confirmed(manager)
    change = services.create_change_request(
        other, by=operations, reason="Later", agreed_date=date(2030, 3, 8)
    )
    client.force_login(operations)
    url = reverse("orders:change_approve", args=[order.number, change.pk])
    assert client.post(url).status_code == 404
    change.refresh_from_db()
    assert change.status == ChangeRequest.Status.DRAFT


def test_staff_approve_from_the_order_page(client, manager, operations):
    order = _confirmed(manager)
    change = services.create_change_request(
        order, by=operations, reason="Later", agreed_date=date(2030, 3, 8)
    )
    client.force_login(operations)
    client.post(reverse("orders:change_approve", args=[order.number, change.pk]))
    order.refresh_from_db()
    assert order.agreed_date == date(2030, 3, 8)
    assert order.status == Order.Status.CONFIRMED


def test_sending_emails_the_customer_an_approval_link_once(mailoutbox, manager, operations):
    from oms.outbox.models import OutboxEvent
    from oms.outbox.runner import drain
    from orders.handlers import email_change_request
    from tests.factories import ContactFactory

    order = _confirmed(manager)
    contact = ContactFactory(customer=order.customer, email="pat@buyer.example")
    change = services.create_change_request(
        order, by=operations, reason="Install a week later", agreed_date=date(2030, 3, 8)
    )
    services.send_change_request(change, by=operations)
    drain()
    event = OutboxEvent.objects.get(kind="change_request.sent")
    email_change_request(event)  # delivered twice: still one email

    sent = [m for m in mailoutbox if m.subject.startswith("Please approve a change")]
    assert len(sent) == 1 and sent[0].to == [contact.email]
    assert "Install a week later" in sent[0].body
    path = "/" + sent[0].body.split("://", 1)[1].split("/", 1)[1].split()[0]
    assert client_get_ok(path)
    logged = order.timeline.filter(
        kind=TimelineEvent.Kind.COMMUNICATION, automation="change request email"
    )
    assert logged.count() == 1 and logged.get().details["recipients"] == [contact.email]


def client_get_ok(path: str) -> bool:
    from django.test import Client

    return Client().get(path).status_code == 200
