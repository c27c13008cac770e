"""Field jobs: the dispatch board by day and engineer, scheduling visits, and the
phone-friendly job sheet (notes, photos, the customer's signature on screen)."""

import base64
import binascii
from datetime import time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_time
from django.views.decorators.http import require_GET, require_POST

from oms.uploads import download_response, read_upload
from orders import queries, services
from orders.models import OrderAttachment
from orders.views.operations import (
    act,
    ensure_operations,
    operations_staff,
    parse_day,
    visible_order,
)

SIGNATURE_PREFIX = "data:image/png;base64,"


@require_GET
@login_required
def dispatch_board(request):
    """Who is where on a day: each engineer's visits in time order."""
    ensure_operations(request.user)
    day = parse_day(request.GET.get("day")) or timezone.localdate()
    engineer = request.GET.get("engineer", "").strip()
    if not engineer.isdigit():
        engineer = ""
    context = {
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "columns": queries.dispatch_board(day, engineer=engineer),
        "engineer": engineer,
        "staff": operations_staff(),
    }
    return render(request, "orders/dispatch_board.html", context)


def _time(text: str | None) -> time | None:
    try:
        return parse_time((text or "").strip())
    except ValueError:
        return None


@require_POST
@login_required
def visit_schedule(request, number: str):
    """Book an engineer's visit: a day and a time window."""
    order = visible_order(request, number)
    ensure_operations(request.user)
    engineer_id = request.POST.get("engineer", "").strip()
    engineer = operations_staff().filter(pk=engineer_id).first() if engineer_id.isdigit() else None
    day = parse_day(request.POST.get("date"))
    start, end = _time(request.POST.get("window_start")), _time(request.POST.get("window_end"))
    if engineer is None or day is None or start is None or end is None:
        messages.error(request, "Choose an engineer, a date and a time window.")
        return redirect("orders:detail", number=order.number)
    return act(
        request,
        order,
        lambda: services.schedule_visit(
            order,
            by=request.user,
            engineer=engineer,
            date=day,
            window_start=start,
            window_end=end,
            notes=request.POST.get("notes", ""),
        ),
        f"Visit booked for {day:%d %b %Y} with {engineer}.",
    )


@require_GET
@login_required
def job_sheet(request, number: str):
    """The engineer's page on a phone: the job, notes, photos and the sign-off."""
    order = visible_order(request, number)
    ensure_operations(request.user)
    context = {"order": order, **queries.order_fulfilment(order)}
    context["photos"] = [a for a in context["attachments"] if a.kind == OrderAttachment.Kind.PHOTO]
    context["lines"] = list(order.lines.all())
    context["may_sign_off"] = order.status in ("confirmed", "in_progress")
    return render(request, "orders/job_sheet.html", context)


@require_POST
@login_required
def job_note(request, number: str):
    order = visible_order(request, number)
    ensure_operations(request.user)
    return act(
        request,
        order,
        lambda: services.add_note(order, by=request.user, message=request.POST.get("note", "")),
        "Note added.",
    )


@require_POST
@login_required
def photo_upload(request, number: str):
    """Photos only: the content is checked as an image, the size is capped, the stored name
    is random."""
    order = visible_order(request, number)
    ensure_operations(request.user)
    upload = request.FILES.get("photo")
    if upload is None:
        messages.error(request, "Choose a photo to upload.")
        return redirect("orders:job_sheet", number=order.number)
    try:
        # Refused before reading it into memory when it says it is too big.
        data = read_upload(upload, limit=settings.ORDER_UPLOAD_MAX_BYTES, what="photos")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("orders:job_sheet", number=order.number)
    return act(
        request,
        order,
        lambda: services.add_order_photo(order, by=request.user, data=data, name=upload.name),
        "Photo added.",
    )


def _signature_bytes(text: str) -> bytes | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.startswith(SIGNATURE_PREFIX):
        raise ValidationError("The signature could not be read; clear it and sign again.")
    try:
        return base64.b64decode(text[len(SIGNATURE_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError("The signature could not be read; clear it and sign again.") from exc


@require_POST
@login_required
def job_sign_off(request, number: str):
    """The customer signs on screen: proof of delivery is recorded and the order delivered."""
    order = visible_order(request, number)
    ensure_operations(request.user)

    def sign_off():
        services.record_proof_of_delivery(
            order,
            by=request.user,
            signer_name=request.POST.get("signer_name", ""),
            notes=request.POST.get("notes", ""),
            signature=_signature_bytes(request.POST.get("signature", "")),
        )

    return act(request, order, sign_off, f"Order {order.number} signed off and delivered.")


@require_GET
@login_required
def attachment_download(request, number: str, attachment_id: int):
    """A stored photo or signature, only for people who may see the order; always sent as
    a download with nosniff, so an upload can never run as a page on our domain."""
    order = visible_order(request, number)
    attachment = get_object_or_404(OrderAttachment, pk=attachment_id, order=order)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing.") from exc
    suffix = attachment.file.name.rsplit(".", 1)[-1]
    return download_response(
        handle,
        filename=f"{order.number}-{attachment.kind}-{attachment.pk}.{suffix}",
        content_type=attachment.content_type,
    )
