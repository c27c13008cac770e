"""Field jobs: booking visits, the dispatch board, photos (images only, size-limited, served
safely) and signing off with a drawn signature, which records proof and delivers."""

import base64
import io
from datetime import date, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from oms.accounts.roles import Role
from orders import queries, services
from orders.models import FieldVisit, Order, OrderAttachment
from tests.conftest import make_user
from tests.factories import CustomerFactory, advance_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png(size=(20, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _field_job(manager, state="confirmed", **fields):
    order = place_order(manager, kind=Order.Kind.FIELD_JOB, **fields)
    return advance_order(order, state, by=manager)


def test_schedule_visit_books_an_engineer_and_notes_the_timeline(manager, operations):
    order = _field_job(manager)
    visit = services.schedule_visit(
        order,
        by=operations,
        engineer=operations,
        date=date(2030, 5, 6),
        window_start=time(9),
        window_end=time(12),
    )
    assert visit.status == FieldVisit.Status.SCHEDULED
    assert "Visit scheduled for 06 May 2030 09:00-12:00" in order.timeline.last().message


def test_schedule_visit_refuses_a_backwards_window_and_a_non_engineer(manager, operations, sales):
    order = _field_job(manager)
    with pytest.raises(ValidationError, match="end after it starts"):
        services.schedule_visit(
            order,
            by=operations,
            engineer=operations,
            date=date(2030, 5, 6),
            window_start=time(12),
            window_end=time(9),
        )
    with pytest.raises(ValidationError, match="not an engineer"):
        services.schedule_visit(
            order,
            by=operations,
            engineer=sales,
            date=date(2030, 5, 6),
            window_start=time(9),
            window_end=time(12),
        )
    with pytest.raises(PermissionDenied):
        services.schedule_visit(
            order,
            by=sales,
            engineer=operations,
            date=date(2030, 5, 6),
            window_start=time(9),
            window_end=time(12),
        )


def test_visit_view_books_from_the_order_page(client, manager, operations):
    order = _field_job(manager)
    client.force_login(operations)
    client.post(
        reverse("orders:visit_schedule", args=[order.number]),
        {
            "engineer": operations.pk,
            "date": "2030-05-06",
            "window_start": "08:00",
            "window_end": "10:30",
        },
    )
    visit = order.visits.get()
    assert (visit.window_start, visit.window_end) == (time(8), time(10, 30))


def test_dispatch_board_groups_a_days_visits_by_engineer(manager, operations, django_user_model):
    colleague = make_user(django_user_model, "eddie@example.com", Role.OPERATIONS)
    day = date(2030, 5, 6)
    for engineer, start in ((operations, 13), (operations, 9), (colleague, 10)):
        services.schedule_visit(
            _field_job(manager),
            by=operations,
            engineer=engineer,
            date=day,
            window_start=time(start),
            window_end=time(start + 1),
        )
    services.schedule_visit(
        _field_job(manager),
        by=operations,
        engineer=operations,
        date=day + timedelta(days=1),
        window_start=time(9),
        window_end=time(10),
    )
    board = queries.dispatch_board(day)
    by_engineer = {c["engineer"]: [v.window_start.hour for v in c["visits"]] for c in board}
    assert by_engineer == {operations: [9, 13], colleague: [10]}
    only = queries.dispatch_board(day, engineer=str(colleague.pk))
    assert [c["engineer"] for c in only] == [colleague]


@pytest.mark.parametrize("count", [10, 100])
def test_dispatch_query_count_is_pinned(
    client, manager, operations, count, django_assert_num_queries
):
    day = date(2030, 5, 6)
    customer = CustomerFactory()
    for _ in range(count):
        order = advance_order(
            place_order(manager, customer=customer, kind=Order.Kind.FIELD_JOB),
            "confirmed",
            by=manager,
        )
        FieldVisit.objects.create(
            order=order,
            engineer=operations,
            date=day,
            window_start=time(8),
            window_end=time(9),
            created_by=operations,
        )
    client.force_login(operations)
    client.get(reverse("orders:dispatch"))
    # session, user, role check, visits with their orders, staff list
    with django_assert_num_queries(5):
        response = client.get(reverse("orders:dispatch"), {"day": "2030-05-06"})
    assert response.content.decode().count("data-visit=") == count


def test_photo_upload_stores_an_image_under_a_random_name(client, manager, operations):
    order = _field_job(manager, "in_progress")
    client.force_login(operations)
    upload = SimpleUploadedFile("kitchen wall.png", _png(), content_type="image/png")
    client.post(reverse("orders:photo_upload", args=[order.number]), {"photo": upload})
    photo = order.attachments.get()
    assert photo.kind == OrderAttachment.Kind.PHOTO
    assert photo.original_name == "kitchen wall.png"
    assert "kitchen" not in photo.file.name and photo.file.name.endswith(".png")
    assert photo.content_type == "image/png"


def test_photo_upload_rejects_a_file_that_is_not_an_image(client, manager, operations):
    order = _field_job(manager, "in_progress")
    client.force_login(operations)
    fake = SimpleUploadedFile("photo.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    response = client.post(
        reverse("orders:photo_upload", args=[order.number]), {"photo": fake}, follow=True
    )
    assert "Only photos (JPEG, PNG, WebP or GIF images) can be uploaded." in (
        response.content.decode()
    )
    assert not order.attachments.exists()


def test_photo_upload_rejects_an_oversize_file(client, manager, operations, settings):
    settings.ORDER_UPLOAD_MAX_BYTES = 1024 * 1024
    order = _field_job(manager, "in_progress")
    client.force_login(operations)
    big = SimpleUploadedFile("big.png", _png() + b"\0" * (1024 * 1024), content_type="image/png")
    response = client.post(
        reverse("orders:photo_upload", args=[order.number]), {"photo": big}, follow=True
    )
    assert "photos may be at most 1 MB" in response.content.decode()
    assert not order.attachments.exists()


def test_photo_service_refuses_oversize_and_non_images(manager, operations, settings):
    settings.ORDER_UPLOAD_MAX_BYTES = 100
    order = _field_job(manager, "in_progress")
    with pytest.raises(ValidationError, match="at most"):
        services.add_order_photo(order, by=operations, data=_png((200, 200)), name="x.png")
    settings.ORDER_UPLOAD_MAX_BYTES = 10_000
    with pytest.raises(ValidationError, match="Only photos"):
        services.add_order_photo(order, by=operations, data=b"GIF89a not really", name="x.gif")


def test_attachment_is_served_as_a_download_with_nosniff(client, manager, operations):
    order = _field_job(manager, "in_progress")
    photo = services.add_order_photo(order, by=operations, data=_png(), name="a.png")
    client.force_login(operations)
    response = client.get(reverse("orders:attachment", args=[order.number, photo.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == _png()


def test_attachment_is_hidden_from_sales_who_cannot_see_the_order(
    client, manager, operations, other_sales
):
    order = _field_job(manager, "in_progress")
    photo = services.add_order_photo(order, by=operations, data=_png(), name="a.png")
    client.force_login(other_sales)
    assert (
        client.get(reverse("orders:attachment", args=[order.number, photo.pk])).status_code == 404
    )


def test_another_orders_attachment_id_is_not_found(client, manager, operations):
    order = _field_job(manager, "in_progress")
    other = _field_job(manager, "in_progress")
    photo = services.add_order_photo(other, by=operations, data=_png(), name="a.png")
    client.force_login(operations)
    assert (
        client.get(reverse("orders:attachment", args=[order.number, photo.pk])).status_code == 404
    )


def test_sign_off_records_proof_with_signature_and_photos_and_delivers(client, manager, operations):
    order = _field_job(manager)  # confirmed: signing off starts the work first
    services.schedule_visit(
        order,
        by=operations,
        engineer=operations,
        date=date.today(),
        window_start=time(9),
        window_end=time(11),
    )
    photo = services.add_order_photo(order, by=operations, data=_png(), name="after.png")
    client.force_login(operations)
    signature = "data:image/png;base64," + base64.b64encode(_png((300, 100))).decode()
    client.post(
        reverse("orders:job_sign_off", args=[order.number]),
        {"signer_name": "Dana Customer", "notes": "All tested", "signature": signature},
    )
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert order.delivered_to == "Dana Customer"
    proof = order.proofs.get()
    assert proof.signature.kind == OrderAttachment.Kind.SIGNATURE
    assert proof.notes == "All tested" and proof.delivered_by == operations
    photo.refresh_from_db()
    assert photo.proof == proof
    assert order.visits.get().status == FieldVisit.Status.COMPLETED


def test_sign_off_rejects_a_signature_that_is_not_an_image(client, manager, operations):
    order = _field_job(manager, "in_progress")
    client.force_login(operations)
    bogus = "data:image/png;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode()
    response = client.post(
        reverse("orders:job_sign_off", args=[order.number]),
        {"signer_name": "Dana", "signature": bogus},
        follow=True,
    )
    assert "Only photos" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS


def test_sign_off_needs_a_signer_name(manager, operations):
    order = _field_job(manager, "in_progress")
    with pytest.raises(ValidationError, match="name of the person"):
        services.record_proof_of_delivery(order, by=operations, signer_name=" ")


def test_job_sheet_and_sign_off_are_operations_only(client, manager, finance, sales):
    order = _field_job(manager, "in_progress", customer=CustomerFactory(account_manager=sales))
    for user in (finance, sales):
        client.force_login(user)
        assert client.get(reverse("orders:job_sheet", args=[order.number])).status_code == 403
        response = client.post(
            reverse("orders:job_sign_off", args=[order.number]), {"signer_name": "X"}
        )
        assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS


def test_job_sheet_shows_instructions_and_the_signature_pad(client, manager, operations):
    order = _field_job(manager, special_instructions="Dog on site")
    client.force_login(operations)
    html = client.get(reverse("orders:job_sheet", args=[order.number])).content.decode()
    assert "Dog on site" in html
    assert "data-signature-pad" in html and "js/signature.js" in html
    assert "<script>" not in html


def test_proof_of_delivery_shows_on_the_customers_tracking_page(client, manager, operations):
    from oms.links.services import issue_link

    order = _field_job(manager, "in_progress")
    services.add_order_photo(order, by=operations, data=_png(), name="done.png")
    services.record_proof_of_delivery(
        order, by=operations, signer_name="Dana Customer", signature=_png((300, 100))
    )
    token = issue_link(order, purpose="tracking").token
    html = client.get(reverse("orders:track", args=[token])).content.decode()
    assert "received by Dana Customer" in html
    assert "Signed by Dana Customer; 1 photo(s)" in html


def test_proof_of_delivery_shows_on_the_invoice_finance_reviews(
    client, manager, operations, finance
):
    from invoicing.models import Invoice

    order = _field_job(manager, "in_progress")
    services.record_proof_of_delivery(
        order, by=operations, signer_name="Dana Customer", signature=_png((300, 100))
    )
    from oms.outbox.runner import drain

    drain()  # order.delivered drafts the invoice
    invoice = Invoice.objects.get(order=order)
    client.force_login(finance)
    html = client.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert "received by <strong>Dana Customer</strong>" in html
    signature = order.proofs.get().signature_id
    assert reverse("orders:attachment", args=[order.number, signature]) in html
