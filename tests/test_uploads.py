"""Uploads are judged by their content, stored under random private names, and handed out
only as downloads to people who may see the order (oms.uploads)."""

import base64
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from oms import uploads
from orders import services
from orders.models import Order
from tests.factories import advance_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _image(fmt: str = "PNG", size=(20, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format=fmt)
    return buffer.getvalue()


def _field_job(manager, state="in_progress"):
    order = place_order(manager, kind=Order.Kind.FIELD_JOB)
    return advance_order(order, state, by=manager)


def _upload(client, order, name: str, data: bytes, content_type: str):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(
        reverse("orders:photo_upload", args=[order.number]), {"photo": upload}, follow=True
    )


# --- the validator ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "suffix"),
    [("PNG", "image/png", ".png"), ("JPEG", "image/jpeg", ".jpg"), ("GIF", "image/gif", ".gif")],
)
def test_check_image_names_the_format_found_in_the_bytes(fmt, content_type, suffix):
    checked = uploads.check_image(_image(fmt), limit=1_000_000)
    assert (checked.content_type, checked.suffix) == (content_type, suffix)


@pytest.mark.parametrize(
    "data",
    [
        b"<script>alert(1)</script>",
        b"%PDF-1.7\n1 0 obj<<>>endobj",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"GIF89a not really a gif",
        b"\x89PNG\r\n\x1a\n" + b"\xff" * 64,  # a PNG signature with garbage behind it
        "caf\xe9 \udcff".encode("utf-8", "surrogateescape"),  # invalid UTF-8
    ],
)
def test_check_image_refuses_anything_that_is_not_a_whole_image(data):
    with pytest.raises(ValidationError, match="Only photos"):
        uploads.check_image(data, limit=1_000_000)


def test_check_image_refuses_a_decompression_bomb(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValidationError, match="Only photos"):
        uploads.check_image(_image(size=(20, 10)), limit=1_000_000)


def test_size_limits_refuse_big_and_empty_files():
    with pytest.raises(ValidationError, match="may be at most 1 MB"):
        uploads.ensure_size(2 * 1_048_576, limit=1_048_576, what="photos")
    with pytest.raises(ValidationError, match="empty"):
        uploads.ensure_size(0, limit=1_048_576)


def test_random_upload_names_are_private_unguessable_and_ignore_the_persons_name():
    first = uploads.random_upload_name("orders/7", ".PNG")
    second = uploads.random_upload_name("orders/7", ".png")
    assert first.startswith("private/orders/7/") and first.endswith(".png")
    assert first != second
    assert uploads.random_upload_name("orders/7", "./../../etc/passwd").endswith(
        tuple("0123456789abcdef")
    )


# --- job photos through the page --------------------------------------------------------


def test_a_png_named_pdf_is_stored_as_the_png_it_is(client, manager, operations):
    order = _field_job(manager)
    client.force_login(operations)
    _upload(client, order, "invoice.pdf", _image("PNG"), "application/pdf")
    photo = order.attachments.get()
    assert photo.content_type == "image/png"
    assert photo.file.name.endswith(".png") and "invoice" not in photo.file.name
    assert photo.file.name.startswith(f"private/orders/{order.pk}/")
    assert photo.original_name == "invoice.pdf"  # kept as data only


def test_a_script_named_png_is_refused_and_nothing_is_stored(client, manager, operations, tmp_path):
    order = _field_job(manager)
    client.force_login(operations)
    response = _upload(client, order, "photo.png", b"<script>alert(1)</script>", "image/png")
    assert "Only photos (JPEG, PNG, WebP or GIF images) can be uploaded." in (
        response.content.decode()
    )
    assert not order.attachments.exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_an_oversize_photo_is_refused_before_it_is_read(client, manager, operations, settings):
    settings.ORDER_UPLOAD_MAX_BYTES = 1024
    order = _field_job(manager)
    client.force_login(operations)
    response = _upload(
        client, order, "big.png", _image(size=(400, 400)) + b"\0" * 2048, "image/png"
    )
    assert "photos may be at most" in response.content.decode()
    assert not order.attachments.exists()


def test_a_signature_that_is_not_an_image_is_refused_and_the_order_not_delivered(
    client, manager, operations
):
    order = _field_job(manager)
    client.force_login(operations)
    payload = "data:image/png;base64," + base64.b64encode(b"<svg onload=alert(1)>").decode()
    response = client.post(
        reverse("orders:job_sign_off", args=[order.number]),
        {"signer_name": "Pat", "signature": payload},
        follow=True,
    )
    assert "Only photos" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS
    assert not order.attachments.exists()


# --- serving ---------------------------------------------------------------------------


def test_a_photo_is_served_as_a_download_with_nosniff_and_no_caching(client, manager, operations):
    order = _field_job(manager)
    photo = services.add_order_photo(order, by=operations, data=_image(), name="<b>x</b>.png")
    client.force_login(operations)
    response = client.get(reverse("orders:attachment", args=[order.number, photo.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{order.number}-photo-{photo.pk}.png"'
    )
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(response.streaming_content) == _image()


def test_someone_who_cannot_see_the_order_gets_404(client, manager, operations, other_sales):
    order = _field_job(manager)
    photo = services.add_order_photo(order, by=operations, data=_image(), name="a.png")
    client.force_login(other_sales)
    response = client.get(reverse("orders:attachment", args=[order.number, photo.pk]))
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, manager, operations):
    order = _field_job(manager)
    photo = services.add_order_photo(order, by=operations, data=_image(), name="a.png")
    response = client.get(reverse("orders:attachment", args=[order.number, photo.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_stored_files_are_not_reachable_under_the_media_url(client, manager, operations):
    order = _field_job(manager)
    photo = services.add_order_photo(order, by=operations, data=_image(), name="a.png")
    client.force_login(operations)
    assert client.get(f"/media/{photo.file.name}").status_code == 404
