import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from oms.links.models import CustomerLink
from oms.links.services import issue_link
from oms.outbox.models import OutboxEvent
from orders.models import Order, TimelineEvent
from quotes.forms import LINE_FIELDS, blank_row
from quotes.handlers import email_quote
from quotes.models import Quote
from quotes.services import revise_quote, send_quote
from tests.conftest import PASSWORD
from tests.factories import ContactFactory, ProductFactory, line_data, place_order, send_new_quote

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(request=HttpRequest(), email=user.email, password=PASSWORD)


def _form(*rows, action="recalc", **extra):
    data = {f"line_{name}": [] for name in LINE_FIELDS}
    for row in rows:
        full = {**blank_row(), **row}
        for name in LINE_FIELDS:
            data[f"line_{name}"].append(full[name])
    valid_until = timezone.localdate() + timedelta(days=30)
    return {"action": action, "valid_until": valid_until.isoformat(), **data, **extra}


def _builder(order):
    return reverse("quotes:builder", kwargs={"number": order.number})


THREE_LINES = (
    {"description": "Oak treads", "quantity": "12", "unit_price": "45.50", "tax_rate": "20"},
    {"description": "Fitting", "quantity": "1.5", "unit_price": "300.00", "tax_rate": "20"},
    {
        "description": "Delivery",
        "quantity": "1",
        "unit_price": "80.00",
        "discount_percent": "25",
        "tax_rate": "0",
    },
)


# --- the builder -------------------------------------------------------------------------


def test_builder_shows_order_lines_and_default_validity(client, sales, settings):
    settings.QUOTE_VALIDITY_DAYS = 10
    order = place_order(sales, lines=[line_data(description="Walnut desk")])
    _login(client, sales)

    response = client.get(_builder(order))

    assert response.status_code == 200
    assert b'value="Walnut desk"' in response.content
    expected = (timezone.localdate() + timedelta(days=10)).isoformat()
    assert f'value="{expected}"'.encode() in response.content


def test_recalculating_returns_server_totals_and_saves_nothing(client, sales):
    order = place_order(sales)
    _login(client, sales)

    response = client.post(_builder(order), _form(*THREE_LINES), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="quote-lines"')
    # 546.00 + 450.00 + 60.00 net; tax 109.20 + 90.00 + 0.00
    assert '<td class="num" id="total-net">1,056.00</td>' in body
    assert '<td class="num" id="total-tax">199.20</td>' in body
    assert "1,255.20" in body
    order.refresh_from_db()
    assert order.lines.count() == 1
    assert not order.quotes.exists()


def test_add_remove_and_reorder_lines_without_saving(client, sales):
    order = place_order(sales)
    _login(client, sales)
    rows = [
        {"description": "First", "unit_price": "1"},
        {"description": "Second", "unit_price": "2"},
    ]

    added = client.post(_builder(order), _form(*rows, action="add"), HTTP_HX_REQUEST="true")
    moved = client.post(_builder(order), _form(*rows, action="up-1"), HTTP_HX_REQUEST="true")
    removed = client.post(_builder(order), _form(*rows, action="remove-0"), HTTP_HX_REQUEST="true")

    assert added.content.count(b'name="line_description"') == 3
    body = moved.content.decode()
    assert body.index('value="Second"') < body.index('value="First"')
    assert b'value="First"' not in removed.content
    assert b'value="Second"' in removed.content
    assert order.lines.get().description == "Widget"


def test_product_code_fills_description_price_and_tax(client, sales):
    ProductFactory(
        code="OAK-1", name="Oak tread", unit="m", unit_price=Decimal("45.50"), tax_rate=Decimal("5")
    )
    order = place_order(sales)
    _login(client, sales)

    response = client.post(
        _builder(order), _form({"product": "oak-1", "quantity": "2"}), HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert 'value="Oak tread"' in body
    assert 'value="45.50"' in body
    assert 'name="line_tax_rate" id="line-0-tax_rate" value="5"' in body
    assert 'id="line-0-net">91.00<' in body


def test_product_type_ahead_offers_matching_products(client, sales):
    ProductFactory(code="OAK-1", name="Oak tread")
    ProductFactory(code="ASH-1", name="Ash tread")
    _login(client, sales)

    response = client.get(reverse("quotes:products"), {"line_product": "oak"})

    assert b'<datalist id="product-options">' in response.content
    assert b"OAK-1" in response.content
    assert b"ASH-1" not in response.content


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"description": "Bad", "quantity": "-1", "unit_price": "10"},
            "Quantity must be more than zero.",
        ),
        ({"product": "NOPE", "quantity": "1"}, "No product with code “NOPE”."),
        (
            {"description": "Bad", "quantity": "1", "unit_price": "10.123"},
            "Ensure that there are no more than 2 decimal places.",
        ),
        (
            {"description": "Bad", "quantity": "1", "unit_price": "10", "discount_percent": "120"},
            "Ensure this value is less than or equal to 100.",
        ),
    ],
)
def test_invalid_line_shown_next_to_field_and_nothing_saved(client, sales, row, message):
    order = place_order(sales)
    _login(client, sales)

    response = client.post(_builder(order), _form(THREE_LINES[0], row, action="save"))

    assert response.status_code == 422
    assert message in response.content.decode()
    order.refresh_from_db()
    assert [line.description for line in order.lines.all()] == ["Widget"]
    assert order.gross_total == Decimal("120.00")
    assert not order.quotes.exists()


def test_empty_quote_refused(client, sales):
    order = place_order(sales)
    _login(client, sales)

    response = client.post(_builder(order), _form({}, action="save"))

    assert response.status_code == 422
    assert b"Add at least one line before saving the quote." in response.content
    assert order.lines.count() == 1
    assert not order.quotes.exists()


def test_save_draft_writes_lines_and_one_draft(client, sales):
    order = place_order(sales)
    _login(client, sales)

    client.post(_builder(order), _form(*THREE_LINES, action="save", terms="50% deposit"))
    client.post(_builder(order), _form(*THREE_LINES[:2], action="save", notes="Thanks"))

    order.refresh_from_db()
    draft = order.quotes.get()
    assert draft.status == Quote.Status.DRAFT
    assert (draft.terms, draft.notes) == ("", "Thanks")
    assert [line.description for line in order.lines.all()] == ["Oak treads", "Fitting"]
    assert order.net_total == Decimal("996.00")


def test_save_through_htmx_stays_on_the_page(client, sales):
    order = place_order(sales)
    _login(client, sales)

    response = client.post(
        _builder(order), _form(*THREE_LINES, action="save"), HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form method="post"')
    assert 'id="quote-saved"' in body
    assert 'value="Delivery"' in body
    assert order.quotes.get().status == Quote.Status.DRAFT


def test_send_through_htmx_redirects_to_the_quote(client, sales):
    order = place_order(sales)
    contact = ContactFactory(customer=order.customer)
    _login(client, sales)

    response = client.post(
        _builder(order),
        _form(*THREE_LINES, action="send", contact=contact.pk),
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("quotes:detail", kwargs={"pk": order.quotes.get().pk})


def test_validity_in_the_past_refused(client, sales):
    order = place_order(sales)
    _login(client, sales)
    data = _form(*THREE_LINES, action="save")
    data["valid_until"] = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = client.post(_builder(order), data)

    assert response.status_code == 422
    assert b"The validity date cannot be in the past." in response.content
    assert not order.quotes.exists()


def test_save_and_send_moves_the_order_to_quoted(client, sales):
    order = place_order(sales)
    contact = ContactFactory(customer=order.customer, email="buyer@customer.example")
    _login(client, sales)

    response = client.post(_builder(order), _form(*THREE_LINES, action="send", contact=contact.pk))

    quote = order.quotes.get()
    order.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("quotes:detail", kwargs={"pk": quote.pk})
    assert quote.status == Quote.Status.SENT
    assert quote.sent_to == "buyer@customer.example"
    assert len(quote.lines_snapshot) == 3
    assert quote.gross_total == Decimal("1255.20")
    assert order.status == Order.Status.QUOTED
    assert OutboxEvent.objects.filter(kind="quote.sent", subject_id=quote.pk).count() == 1


def test_send_without_a_contact_saves_nothing(client, sales):
    order = place_order(sales)
    _login(client, sales)

    response = client.post(_builder(order), _form(*THREE_LINES, action="send"))

    assert response.status_code == 422
    assert order.lines.count() == 1
    assert not order.quotes.exists()


def test_builder_of_someone_elses_order_is_not_found(client, sales, other_sales):
    order = place_order(other_sales)
    _login(client, sales)

    assert client.get(_builder(order)).status_code == 404


def test_builder_refused_to_operations(client, sales, operations):
    order = place_order(sales)
    _login(client, operations)

    assert client.get(_builder(order)).status_code == 403


# --- the quote email -----------------------------------------------------------------------


def _sent(sales, **options):
    order = place_order(sales, lines=[line_data(description=f"Item {i}") for i in range(3)])
    contact = ContactFactory(customer=order.customer, name="Pat Buyer", email="pat@buyer.example")
    quote = send_new_quote(order, sales, **options)
    quote = send_quote(quote, by=sales, to=contact.email) if quote.status == "draft" else quote
    return quote


def test_sending_emails_the_pdf_and_link_once_and_logs_it(client, sales):
    quote = _sent(sales)
    event = OutboxEvent.objects.get(kind="quote.sent", subject_id=quote.pk)

    email_quote(event)
    email_quote(event)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [quote.sent_to]
    name, content, mimetype = message.attachments[0]
    assert name == f"Quote {quote.reference}.pdf"
    assert content.startswith(b"%PDF")
    assert mimetype == "application/pdf"
    assert CustomerLink.objects.filter(purpose="quote", target_id=quote.pk).count() == 1
    path = re.search(r"https?://[^/\s]+(/quotes/q/[^/\s]+/)", message.body).group(1)
    assert b'id="accept-form"' in client.get(path).content
    logged = quote.order.timeline.filter(kind=TimelineEvent.Kind.COMMUNICATION).get()
    assert logged.details["subject"] == message.subject
    assert logged.details["recipients"] == [quote.sent_to]
    assert logged.details["attachment"] == name
    assert logged.details["body"] == message.body
    assert logged.actor == sales


def test_superseded_quote_is_not_emailed(sales):
    quote = _sent(sales)
    event = OutboxEvent.objects.get(kind="quote.sent", subject_id=quote.pk)
    send_quote(revise_quote(quote, by=sales), by=sales)

    email_quote(event)

    assert mail.outbox == []


def test_resend_emails_the_quote_again(client, sales):
    quote = _sent(sales)
    email_quote(OutboxEvent.objects.get(kind="quote.sent", subject_id=quote.pk))
    _login(client, sales)

    client.post(reverse("quotes:resend", kwargs={"pk": quote.pk}))
    email_quote(OutboxEvent.objects.get(kind="quote.resent", subject_id=quote.pk))

    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.startswith("Reminder: ")


# --- preview, PDF and versions ---------------------------------------------------------------


def test_preview_and_pdf(client, sales):
    quote = _sent(sales)
    _login(client, sales)

    page = client.get(reverse("quotes:detail", kwargs={"pk": quote.pk}))
    pdf = client.get(reverse("quotes:pdf", kwargs={"pk": quote.pk}))

    assert b"Item 2" in page.content
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_revising_a_sent_quote_makes_a_new_version_and_shows_changes(client, sales):
    quote = _sent(sales)
    order = quote.order
    contact = order.customer.contacts.get()
    _login(client, sales)

    client.post(reverse("quotes:revise", kwargs={"pk": quote.pk}))
    rows = [
        dict(description=f"Item {i}", quantity="2", unit_price="50.00", tax_rate="20")
        for i in range(3)
    ]
    rows[1]["quantity"] = "5"
    rows[2] = {"description": "Extra", "quantity": "1", "unit_price": "9.99", "tax_rate": "20"}
    client.post(_builder(order), _form(*rows, action="save"))
    page = client.get(_builder(order)).content.decode()
    client.post(_builder(order), _form(*rows, action="send", contact=contact.pk))

    quote.refresh_from_db()
    second = order.quotes.get(version=2)
    assert 'id="quote-changes"' in page
    assert "Quantity 2 → 5" in page
    assert "added</span> Extra" in page
    assert "removed</span> Item 2" in page
    assert quote.status == Quote.Status.SUPERSEDED
    assert second.status == Quote.Status.SENT
    detail = client.get(reverse("quotes:detail", kwargs={"pk": second.pk})).content.decode()
    assert "What changed since" in detail


# --- the customer's page -----------------------------------------------------------------------


def _public(quote, name="quotes:public"):
    link = issue_link(quote, purpose="quote")
    return link, reverse(name, kwargs={"token": link.token})


def test_customer_accepts_with_name_po_and_ip(client, sales):
    quote = _sent(sales)
    link, url = _public(quote)

    page = client.get(url)
    response = client.post(
        reverse("quotes:public_accept", kwargs={"token": link.token}),
        {"name": "Pat  Buyer", "po": "PO-991"},
        REMOTE_ADDR="203.0.113.7",
    )

    quote.refresh_from_db()
    order = quote.order
    order.refresh_from_db()
    link.refresh_from_db()
    assert b'id="accept-form"' in page.content
    assert response.status_code == 303
    assert quote.status == Quote.Status.ACCEPTED
    assert (quote.accepted_by_name, quote.accepted_po, quote.accepted_ip) == (
        "Pat Buyer",
        "PO-991",
        "203.0.113.7",
    )
    assert quote.accepted_at is not None
    assert order.status == Order.Status.CONFIRMED
    assert order.po_reference == "PO-991"
    assert link.used_at is not None
    after = client.get(url)
    assert b'data-state="accepted"' in after.content
    assert b'id="accept-form"' not in after.content


def test_customer_must_type_a_full_name(client, sales):
    quote = _sent(sales)
    link, _ = _public(quote)

    response = client.post(
        reverse("quotes:public_accept", kwargs={"token": link.token}), {"name": "Pat"}
    )

    quote.refresh_from_db()
    link.refresh_from_db()
    assert response.status_code == 422
    assert b"Type your full name" in response.content
    assert quote.status == Quote.Status.SENT
    assert link.used_at is None


def test_customer_declines_with_a_reason(client, sales):
    quote = _sent(sales)
    link, _ = _public(quote)

    client.post(
        reverse("quotes:public_decline", kwargs={"token": link.token}), {"reason": "Too dear"}
    )

    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert quote.decline_reason == "Too dear"
    assert Order.objects.get(pk=quote.order_id).status == Order.Status.LOST


def test_used_link_explains_itself_and_changes_nothing(client, sales):
    quote = _sent(sales)
    link, _url = _public(quote)
    accept = reverse("quotes:public_accept", kwargs={"token": link.token})
    client.post(accept, {"name": "Pat Buyer"})

    again = client.post(reverse("quotes:public_decline", kwargs={"token": link.token}), {})

    quote.refresh_from_db()
    assert again.status_code == 409
    assert b"was accepted" in again.content
    assert quote.status == Quote.Status.ACCEPTED


def test_second_link_to_an_answered_quote_is_used_up(client, sales):
    quote = _sent(sales)
    first, _ = _public(quote)
    _second, second_url = _public(quote)
    client.post(
        reverse("quotes:public_accept", kwargs={"token": first.token}), {"name": "Pat Buyer"}
    )

    page = client.get(second_url)

    assert b'data-state="accepted"' in page.content
    assert b'id="decline-form"' not in page.content


def test_quote_past_its_validity_explains_and_cannot_be_accepted(client, sales):
    quote = _sent(sales, valid_until=timezone.localdate() + timedelta(days=5))
    link, url = _public(quote)

    with time_machine.travel(timezone.now() + timedelta(days=7)):
        page = client.get(url)
        response = client.post(
            reverse("quotes:public_accept", kwargs={"token": link.token}), {"name": "Pat Buyer"}
        )

    quote.refresh_from_db()
    assert b'data-state="expired"' in page.content
    assert response.status_code == 409
    assert quote.status == Quote.Status.SENT
    assert Order.objects.get(pk=quote.order_id).status == Order.Status.QUOTED


def test_expired_link_shows_polite_page_without_the_quote(client, sales):
    quote = _sent(sales)
    _link, url = _public(quote)

    with time_machine.travel(timezone.now() + timedelta(days=40)):
        response = client.get(url)

    assert response.status_code == 410
    assert quote.reference.encode() not in response.content


def test_superseded_quote_link_explains_and_changes_nothing(client, sales):
    quote = _sent(sales)
    link, url = _public(quote)
    send_quote(revise_quote(quote, by=sales), by=sales)

    page = client.get(url)
    response = client.post(
        reverse("quotes:public_accept", kwargs={"token": link.token}), {"name": "Pat Buyer"}
    )

    quote.refresh_from_db()
    assert b'data-state="superseded"' in page.content
    assert b"by version 2" in page.content
    assert response.status_code == 409
    assert quote.status == Quote.Status.SUPERSEDED
    assert Order.objects.get(pk=quote.order_id).status == Order.Status.QUOTED


def test_tampered_link_is_not_found(client, sales):
    quote = _sent(sales)
    link, _ = _public(quote)
    token = link.token[:-2] + ("AA" if not link.token.endswith("AA") else "BB")

    response = client.get(reverse("quotes:public", kwargs={"token": token}))
    post = client.post(reverse("quotes:public_accept", kwargs={"token": token}), {"name": "A B"})

    assert response.status_code == 404
    assert b'id="link-invalid"' in response.content
    assert post.status_code == 404
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_public_pdf_download(client, sales):
    quote = _sent(sales)
    link, _ = _public(quote)

    response = client.get(reverse("quotes:public_pdf", kwargs={"token": link.token}))

    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]


# --- quick actions on the awaiting queue ---------------------------------------------


def test_record_acceptance_by_phone(client, sales):
    quote = _sent(sales)
    _login(client, sales)

    response = client.post(
        reverse("quotes:accept_by_phone", kwargs={"pk": quote.pk}),
        {"name": "Pat Buyer", "po": "PO-1"},
        HTTP_HX_REQUEST="true",
    )

    quote.refresh_from_db()
    assert response.content.decode().lstrip().startswith('<div id="awaiting-table"')
    assert quote.status == Quote.Status.ACCEPTED
    assert quote.accepted_ip is None
    assert Order.objects.get(pk=quote.order_id).status == Order.Status.CONFIRMED
    assert quote.order.timeline.filter(to_state="confirmed", actor=sales).exists()


def test_record_decline(client, sales):
    quote = _sent(sales)
    _login(client, sales)

    client.post(reverse("quotes:decline", kwargs={"pk": quote.pk}), {"reason": "No budget"})

    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert Order.objects.get(pk=quote.order_id).closed_reason.endswith("No budget")


def test_pause_and_resume_followups(client, sales):
    quote = _sent(sales)
    _login(client, sales)

    client.post(reverse("quotes:pause_followups", kwargs={"pk": quote.pk}))
    quote.refresh_from_db()
    paused = quote.followups_paused
    client.post(reverse("quotes:resume_followups", kwargs={"pk": quote.pk}))
    quote.refresh_from_db()

    assert paused is True
    assert quote.followups_paused is False
    kinds = set(OutboxEvent.objects.filter(subject_id=quote.pk).values_list("kind", flat=True))
    assert {"quote.followups_paused", "quote.followups_resumed"} <= kinds


def test_quick_action_refusal_is_shown(client, sales):
    quote = _sent(sales)
    _login(client, sales)
    client.post(reverse("quotes:decline", kwargs={"pk": quote.pk}))

    response = client.post(
        reverse("quotes:accept_by_phone", kwargs={"pk": quote.pk}),
        {"name": "Pat Buyer"},
        follow=True,
    )

    assert b"it cannot be accepted" in response.content
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
