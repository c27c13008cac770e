from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from oms.links import services as links
from orders.models import Order
from tests.factories import CustomerFactory, advance_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(sales, manager):
    order = place_order(
        sales, customer=CustomerFactory(name="Harbour Bakery"), po_reference="PO-HB-1"
    )
    return advance_order(order, "delivered", by=manager)


@pytest.fixture
def invoiced(delivered, finance):
    from invoicing.services import approve_invoice, draft_invoice_for_order

    invoice = approve_invoice(draft_invoice_for_order(delivered, by=finance), by=finance)
    return Order.objects.get(pk=delivered.pk), invoice


@pytest.fixture
def other_order(sales, manager, finance):
    from invoicing.services import approve_invoice, draft_invoice_for_order

    order = place_order(sales, customer=CustomerFactory(name="Rival Foods"), title="Secret job")
    order = advance_order(order, "delivered", by=manager)
    invoice = approve_invoice(draft_invoice_for_order(order, by=finance), by=finance)
    return order, invoice


def _track(link) -> str:
    return reverse("orders:track", kwargs={"token": link.token})


def _pdf(link, invoice) -> str:
    kwargs = {"token": link.token, "invoice_id": invoice.pk}
    return reverse("orders:track_invoice_pdf", kwargs=kwargs)


def test_tracking_page_shows_stage_dates_proof_and_invoices(client, invoiced):
    order, invoice = invoiced
    link = links.issue_link(order, purpose="tracking")
    response = client.get(_track(link))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Invoiced" in body
    assert order.number in body
    assert "PO-HB-1" in body
    assert "Proof of delivery" in body and "Site manager" in body
    assert invoice.number in body
    # The token carries a signing timestamp, so match the link's stable end.
    assert f'/invoices/{invoice.pk}.pdf"' in body
    assert response["Cache-Control"] == "private, no-store"
    assert "noindex" in response["X-Robots-Tag"]


def test_tracking_page_reveals_nothing_of_other_customers(client, invoiced, other_order):
    order, _ = invoiced
    other, other_invoice = other_order
    body = client.get(_track(links.issue_link(order, purpose="tracking"))).content.decode()
    for secret in (other.number, "Rival Foods", "Secret job", other_invoice.number):
        assert secret not in body
    assert reverse("orders:search") not in body
    assert "/orders/ORD-" not in body  # no staff order pages linked


def test_tracking_link_cannot_download_another_orders_invoice(client, invoiced, other_order):
    order, _ = invoiced
    _, other_invoice = other_order
    link = links.issue_link(order, purpose="tracking")
    assert client.get(_pdf(link, other_invoice)).status_code == 404


def test_tracking_link_downloads_its_own_invoice_pdf(client, invoiced):
    order, invoice = invoiced
    link = links.issue_link(order, purpose="tracking")
    url = reverse(
        "orders:track_invoice_pdf", kwargs={"token": link.token, "invoice_id": invoice.pk}
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]


def test_tampered_tracking_link_is_not_found(client, delivered):
    link = links.issue_link(delivered, purpose="tracking")
    assert client.get(_track(link).replace(link.token, link.token[:-3] + "xyz")).status_code == 404


def test_quote_token_does_not_open_the_tracking_page(client, delivered):
    link = links.issue_link(delivered, purpose="quote")
    assert client.get(_track(link)).status_code == 404


def test_revoked_tracking_link_is_not_found(client, delivered, manager):
    link = links.issue_link(delivered, purpose="tracking")
    links.revoke_link(link, by=manager)
    assert client.get(_track(link)).status_code == 404


def test_expired_tracking_link_shows_a_polite_page_without_order_data(client, delivered):
    link = links.issue_link(delivered, purpose="tracking")
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        response = client.get(_track(link))
    body = response.content.decode()
    assert response.status_code == 410
    assert "This link has expired" in body
    assert delivered.number not in body
    assert "Harbour Bakery" not in body


def test_invoice_link_shows_one_invoice_with_its_pdf(client, invoiced, other_order):
    _, invoice = invoiced
    _, other_invoice = other_order
    link = links.issue_link(invoice, purpose="invoice")
    response = client.get(reverse("orders:public_invoice", kwargs={"token": link.token}))
    body = response.content.decode()
    assert response.status_code == 200
    assert invoice.number in body
    assert other_invoice.number not in body
    pdf = client.get(reverse("orders:public_invoice_pdf", kwargs={"token": link.token}))
    assert pdf.content.startswith(b"%PDF")


def test_tracking_token_does_not_open_an_invoice_page(client, invoiced):
    order, _ = invoiced
    link = links.issue_link(order, purpose="tracking")
    url = reverse("orders:public_invoice", kwargs={"token": link.token})
    assert client.get(url).status_code == 404


@pytest.mark.serial  # counts in, and clears, the shared Redis cache
def test_public_pages_are_rate_limited_per_ip(client, delivered, settings):
    settings.PUBLIC_RATE_LIMIT = 2
    cache.clear()
    link = links.issue_link(delivered, purpose="tracking")
    ip = {"REMOTE_ADDR": "203.0.113.77"}
    statuses = [client.get(_track(link), **ip).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get(_track(link), REMOTE_ADDR="203.0.113.78").status_code == 200
    cache.clear()
