"""Webhook pages for managers: endpoints, their secrets, actions and delivery logs."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from oms.accounts.roles import Role, has_role
from oms.webhooks import queries, services
from oms.webhooks.events import EVENT_TYPES
from oms.webhooks.forms import EndpointForm
from oms.webhooks.models import WebhookDelivery, WebhookEndpoint


def _ensure_manager(user) -> None:
    if not has_role(user, Role.MANAGER):
        raise PermissionDenied("Only managers look after webhooks.")


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    _ensure_manager(request.user)
    return get_object_or_404(WebhookEndpoint.objects.select_related("owner"), pk=pk)


@require_GET
@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request.user)
    context = {"endpoints": queries.endpoints_with_counts(), "event_types": EVENT_TYPES}
    return render(request, "webhooks/endpoint_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def endpoint_create(request: HttpRequest) -> HttpResponse:
    _ensure_manager(request.user)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.create_endpoint(**form.cleaned_data, by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Endpoint added. Copy its signing secret now.")
            # The secret is shown on this response only; afterwards it can only be rotated.
            return _detail(request, endpoint, new_secret=endpoint.secret, status=201)
    status = 400 if form.errors else 200
    return render(
        request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None}, status=status
    )


@require_http_methods(["GET", "POST"])
@login_required
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.update_endpoint(endpoint, **form.cleaned_data, by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhooks:detail", pk=endpoint.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "endpoint": endpoint}
    return render(request, "webhooks/endpoint_form.html", context, status=status)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if request.htmx:
        return render(
            request, "webhooks/endpoint_detail.html#delivery-log", _log_context(request, endpoint)
        )
    return _detail(request, endpoint)


def _log_context(request: HttpRequest, endpoint: WebhookEndpoint) -> dict:
    status = request.GET.get("status", "")
    if status not in WebhookDelivery.Status.values:
        status = ""
    return {
        "endpoint": endpoint,
        "deliveries": queries.delivery_log(endpoint, status=status),
        "status_filter": status,
        "statuses": WebhookDelivery.Status.choices,
    }


def _detail(
    request: HttpRequest, endpoint: WebhookEndpoint, *, new_secret: str = "", status: int = 200
) -> HttpResponse:
    labels = dict(EVENT_TYPES)
    context = {
        **_log_context(request, endpoint),
        "new_secret": new_secret,
        "now": timezone.now(),
        "subscribed": [(name, labels.get(name, "")) for name in endpoint.event_types],
    }
    return render(request, "webhooks/endpoint_detail.html", context, status=status)


def _act(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    """Run one action on the endpoint; a refusal is shown on its page with a 409."""
    endpoint = _endpoint(request, pk)
    try:
        action(endpoint)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        endpoint.refresh_from_db()
        return _detail(request, endpoint, status=409)
    messages.success(request, done)
    return redirect("webhooks:detail", pk=pk)


@require_POST
@login_required
def endpoint_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda e: services.pause_endpoint(e, by=request.user),
        "Endpoint paused. Events are held until you resume it.",
    )


@require_POST
@login_required
def endpoint_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda e: services.resume_endpoint(e, by=request.user),
        "Endpoint resumed. Held events are being sent.",
    )


@require_POST
@login_required
def endpoint_archive(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda e: services.archive_endpoint(e, by=request.user),
        "Endpoint archived. It receives nothing more; its log stays.",
    )


@require_POST
@login_required
def endpoint_ping(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda e: services.send_ping(e, by=request.user),
        "Test ping queued; its answer appears in the log below.",
    )


@require_POST
@login_required
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    try:
        overlap = request.POST.get("overlap") == "on"
        endpoint = services.rotate_secret(endpoint, by=request.user, overlap=overlap)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _detail(request, endpoint, status=409)
    if endpoint.previous_secret:
        until = timezone.localtime(endpoint.previous_secret_until)
        messages.success(
            request, f"New signing secret made. The old one also signs until {until:%d %b %H:%M}."
        )
    else:
        messages.success(request, "New signing secret made. The old one no longer signs anything.")
    return _detail(request, endpoint, new_secret=endpoint.secret)


def _delivery(request: HttpRequest, pk: int, delivery: str) -> WebhookDelivery:
    endpoint = _endpoint(request, pk)
    return get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint"), endpoint=endpoint, uuid=delivery
    )


def _delivery_context(delivery: WebhookDelivery) -> dict:
    return {
        "endpoint": delivery.endpoint,
        "delivery": delivery,
        "attempts": queries.attempts_of(delivery),
        # Indented for people to read; the receiver got the compact bytes that were signed.
        "readable_body": json.dumps(json.loads(delivery.body), indent=2),
    }


@require_GET
@login_required
def delivery_detail(request: HttpRequest, pk: int, delivery: str) -> HttpResponse:
    found = _delivery(request, pk, delivery)
    return render(request, "webhooks/delivery_detail.html", _delivery_context(found))


@require_POST
@login_required
def delivery_redeliver(request: HttpRequest, pk: int, delivery: str) -> HttpResponse:
    found = _delivery(request, pk, delivery)
    try:
        services.redeliver(found, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        context = _delivery_context(found)
        return render(request, "webhooks/delivery_detail.html", context, status=409)
    messages.success(request, "Queued to be sent again.")
    return redirect("webhooks:delivery", pk=pk, delivery=found.uuid)
