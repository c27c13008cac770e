"""A tracking link shows one order: not the same customer's other orders, not a draft
invoice, and nothing once it has expired or been revoked."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from oms.links import services as links
from tests.factories import CustomerFactory, advance_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Public pages are rate-limited per address in the shared cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def customer():
    return CustomerFactory(name="Harbour Bakery")


@pytest.fixture
def invoiced(sales, manager, finance, customer):
    from invoicing.services import approve_invoice, draft_invoice_for_order

    order = advance_order(
        place_order(sales, customer=customer, title="Ovens"), "delivered", by=manager
    )
    invoice = approve_invoice(draft_invoice_for_order(order, by=finance), by=finance)
    order.refresh_from_db()
    return order, invoice


@pytest.fixture
def sibling(sales, manager, finance, customer):
    """Another order of the same customer, with its own issued invoice."""
    from invoicing.services import approve_invoice, draft_invoice_for_order

    order = advance_order(
        place_order(sales, customer=customer, title="Walk-in freezer", po_reference="PO-SIB-9"),
        "delivered",
        by=manager,
    )
    invoice = approve_invoice(draft_invoice_for_order(order, by=finance), by=finance)
    return order, invoice


def _track(link) -> str:
    return reverse("orders:track", kwargs={"token": link.token})


def _pdf(link, invoice) -> str:
    return reverse(
        "orders:track_invoice_pdf", kwargs={"token": link.token, "invoice_id": invoice.pk}
    )


def test_same_customers_other_orders_are_not_on_the_page(client, invoiced, sibling):
    order, _ = invoiced
    other, other_invoice = sibling
    body = client.get(_track(links.issue_link(order, purpose="tracking"))).content.decode()
    assert order.number in body
    for secret in (other.number, "Walk-in freezer", "PO-SIB-9", other_invoice.number):
        assert secret not in body


def test_same_customers_other_invoice_cannot_be_downloaded(client, invoiced, sibling):
    order, invoice = invoiced
    _, other_invoice = sibling
    link = links.issue_link(order, purpose="tracking")
    assert client.get(_pdf(link, invoice)).status_code == 200
    assert client.get(_pdf(link, other_invoice)).status_code == 404


def test_draft_invoice_is_neither_listed_nor_downloadable(client, sales, manager, finance):
    from invoicing.services import draft_invoice_for_order

    order = advance_order(place_order(sales), "delivered", by=manager)
    draft = draft_invoice_for_order(order, by=finance)
    link = links.issue_link(order, purpose="tracking")
    body = client.get(_track(link)).content.decode()
    assert f"/invoices/{draft.pk}.pdf" not in body
    assert client.get(_pdf(link, draft)).status_code == 404


def test_link_works_until_its_last_moment_then_expires(client, invoiced, settings):
    order, invoice = invoiced
    link = links.issue_link(order, purpose="tracking")
    days = settings.CUSTOMER_LINK_DAYS["tracking"]
    with time_machine.travel(link.expires_at - timedelta(minutes=1)):
        assert client.get(_track(link)).status_code == 200
        assert client.get(_pdf(link, invoice)).status_code == 200
    with time_machine.travel(link.expires_at + timedelta(minutes=1)):
        assert client.get(_track(link)).status_code == 410
        assert client.get(_pdf(link, invoice)).status_code in (404, 410)
    assert link.expires_at - link.created_at == timedelta(days=days)


def test_shorter_configured_lifetime_applies_to_new_links(client, invoiced, settings):
    order, _ = invoiced
    settings.CUSTOMER_LINK_DAYS = {**settings.CUSTOMER_LINK_DAYS, "tracking": 7}
    link = links.issue_link(order, purpose="tracking")
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert client.get(_track(link)).status_code == 410


def test_revoked_link_no_longer_downloads_invoices(client, invoiced, manager):
    order, invoice = invoiced
    link = links.issue_link(order, purpose="tracking")
    links.revoke_link(link, by=manager)
    assert client.get(_track(link)).status_code == 404
    assert client.get(_pdf(link, invoice)).status_code == 404


def test_revoking_one_link_leaves_a_newer_one_working(client, invoiced, manager):
    order, _ = invoiced
    old = links.issue_link(order, purpose="tracking")
    links.revoke_link(old, by=manager)
    new = links.issue_link(order, purpose="tracking")
    assert client.get(_track(old)).status_code == 404
    assert client.get(_track(new)).status_code == 200
