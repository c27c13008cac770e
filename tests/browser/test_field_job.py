"""A field job on a phone: the engineer opens the job sheet, adds a photo, has the customer
sign on screen, and the order is delivered with a draft invoice waiting for finance."""

import pytest
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from PIL import Image

from invoicing.models import Invoice
from oms.accounts.roles import Role
from oms.outbox.runner import drain
from orders.models import Order, OrderAttachment
from tests.conftest import log_in_browser, make_user
from tests.factories import CustomerFactory, advance_order, place_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def people(django_user_model):
    # Flushing between transactional tests empties the role groups the migration made.
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    return {
        "manager": make_user(django_user_model, "mo.manager@example.com", Role.MANAGER),
        "engineer": make_user(django_user_model, "eve.engineer@example.com", Role.OPERATIONS),
        "finance": make_user(django_user_model, "fay.finance@example.com", Role.FINANCE),
    }


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _photo(path) -> str:
    Image.new("RGB", (64, 48), "teal").save(path, format="JPEG")
    return str(path)


def _draw_signature(page) -> None:
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + step * 25, y + (15 if step % 2 else -15), steps=3)
    page.mouse.up()


def test_engineer_completes_a_field_job_on_a_phone(live_server, browser, people, tmp_path):
    manager, engineer = people["manager"], people["engineer"]
    customer = CustomerFactory(name="Brook Dental", delivery_address="3 Mill Lane, Leeds")
    order = place_order(
        manager,
        customer=customer,
        title="Install compressor",
        kind=Order.Kind.FIELD_JOB,
        special_instructions="Park at the rear",
    )
    order = advance_order(order, "confirmed", by=manager)
    base = live_server.url

    page = browser.new_context(**PHONE).new_page()
    log_in_browser(page, base, engineer)
    page.goto(f"{base}{reverse('orders:job_sheet', args=[order.number])}")
    assert "Park at the rear" in page.inner_text("#job-details")
    # The page fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    page.set_input_files("input[name=photo]", _photo(tmp_path / "installed.jpg"))
    page.click("text=Upload photo")
    page.wait_for_selector("text=installed.jpg")

    page.fill("input[name=signer_name]", "Dr Ruth Brook")
    page.fill("#job-sign-off textarea[name=notes]", "Compressor running, pressure tested")
    _draw_signature(page)
    page.click("text=Sign off and deliver")
    page.wait_for_selector("#job-proof")
    assert "Dr Ruth Brook" in page.inner_text("#job-proof")

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    proof = order.proofs.get()
    assert proof.signature is not None and proof.signature.size > 0
    assert proof.attachments.filter(kind=OrderAttachment.Kind.PHOTO).count() == 1

    # The order.delivered handler drafts the invoice (run here without a worker).
    drain()
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == Invoice.Status.DRAFT

    finance = browser.new_context().new_page()
    log_in_browser(finance, base, people["finance"])
    try:
        finance.goto(f"{base}{reverse('invoicing:drafts')}")
        assert order.number in finance.content() or customer.name in finance.content()
    except NoReverseMatch:
        pass  # the drafts list lives in invoicing; the order page shows the draft too
    finance.goto(f"{base}{reverse('orders:detail', args=[order.number])}")
    assert "Draft" in finance.inner_text("#order-invoices")
    finance.wait_for_selector("#order-proofs")
    assert "Dr Ruth Brook" in finance.inner_text("#order-proofs")
