"""Xero settings, sync status and log for finance; the OAuth callback; the webhook."""

import base64
import hashlib
import hmac
import json
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from invoicing.accounting import queries, services
from invoicing.accounting.forms import MappingForm
from invoicing.accounting.models import AccountMapping, SyncRecord
from invoicing.accounting.provider import SyncError
from invoicing.accounting.ratelimit import XeroRateLimiter
from oms.accounts.roles import Role, has_role

STATE_KEY = "xero_oauth_state"


def _ensure_finance(request: HttpRequest) -> None:
    if not has_role(request.user, Role.FINANCE):
        raise PermissionDenied("Only finance and managers manage Xero.")


def _settings_context(request: HttpRequest, form: MappingForm | None = None) -> dict:
    connection = services.current_connection()
    used_today = day_remaining = None
    if connection and connection.tenant_id:
        try:
            limiter = XeroRateLimiter(connection.tenant_id)
            used_today, day_remaining = limiter.used_today(), limiter.day_remaining()
        except Exception:  # Redis down: the page still shows everything else
            used_today = day_remaining = None
    return {
        "connection": connection,
        "form": form or MappingForm.for_mapping(AccountMapping.current()),
        "counts": queries.sync_counts(),
        "used_today": used_today,
        "day_remaining": day_remaining,
        "daily_limit": settings.XERO_DAILY_LIMIT,
    }


@login_required
@require_GET
def xero_settings(request: HttpRequest) -> HttpResponse:
    _ensure_finance(request)
    return render(request, "accounting/xero_settings.html", _settings_context(request))


@login_required
@require_POST
def xero_connect(request: HttpRequest) -> HttpResponse:
    """Start the authorisation-code flow; the state ties the callback to this session."""
    _ensure_finance(request)
    from invoicing.accounting.xero import authorize_url

    state = secrets.token_urlsafe(24)
    request.session[STATE_KEY] = state
    return redirect(authorize_url(state))


@login_required
@require_GET
def xero_callback(request: HttpRequest) -> HttpResponse:
    _ensure_finance(request)
    expected = request.session.pop(STATE_KEY, None)
    state = request.GET.get("state", "")
    if not expected or not hmac.compare_digest(expected, state):
        messages.error(
            request, "The Xero sign-in did not match this session; try connecting again."
        )
        return redirect("accounting:settings")
    if request.GET.get("error"):
        messages.error(request, "Xero did not grant access; nothing was connected.")
        return redirect("accounting:settings")
    try:
        connection = services.connect_xero(by=request.user, code=request.GET.get("code", ""))
    except (SyncError, ValidationError) as error:
        messages.error(request, getattr(error, "message", None) or " ".join(error.messages))
        return redirect("accounting:settings")
    messages.success(request, f"Connected to {connection.org_name}.")
    return redirect("accounting:settings")


@login_required
@require_POST
def xero_disconnect(request: HttpRequest) -> HttpResponse:
    _ensure_finance(request)
    try:
        services.disconnect_xero(by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Xero disconnected and its tokens revoked.")
    return redirect("accounting:settings")


@login_required
@require_POST
def mapping_update(request: HttpRequest) -> HttpResponse:
    _ensure_finance(request)
    form = MappingForm.for_mapping(AccountMapping.current(), data=request.POST)
    if not form.is_valid():
        context = _settings_context(request, form)
        template = "accounting/xero_settings.html"
        if request.htmx:
            template += "#mappings"
        return render(request, template, context, status=422)
    services.update_mapping(by=request.user, **form.mapping_values())
    messages.success(request, "Xero mappings saved.")
    if request.htmx:
        return render(request, "accounting/xero_settings.html#mappings", _settings_context(request))
    return redirect("accounting:settings")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def sync_list(request: HttpRequest) -> HttpResponse:
    _ensure_finance(request)
    status = request.GET.get("status", "")
    context = {
        "records": queries.sync_records(status)[:500],
        "status": status,
        "statuses": SyncRecord.Status.choices,
        "counts": queries.sync_counts(),
        "connection": services.current_connection(),
    }
    template = "accounting/sync_list.html"
    if request.htmx:
        template += "#sync-records"
    return render(request, template, context)


@login_required
@require_POST
def sync_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_finance(request)
    record = get_object_or_404(SyncRecord, pk=pk)
    try:
        record = services.retry_sync(record, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    if request.htmx:
        return render(request, "accounting/sync_list.html#sync-row", {"record": record})
    messages.success(request, f"{record} queued to retry.")
    return redirect("accounting:sync_list")


@login_required
@require_GET
def sync_log(request: HttpRequest) -> HttpResponse:
    _ensure_finance(request)
    return render(
        request,
        "accounting/sync_log.html",
        {"entries": queries.recent_sync_log(), "connection": services.current_connection()},
    )


def valid_signature(body: bytes, signature: str) -> bool:
    if not settings.XERO_WEBHOOK_KEY or not signature:
        return False
    digest = hmac.new(settings.XERO_WEBHOOK_KEY.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), signature)


@csrf_exempt
@require_POST
def xero_webhook(request: HttpRequest) -> HttpResponse:
    """Xero's webhooks: 401 unless signed with our webhook key; each event acted on once.
    (Xero's intent-to-receive check is this same rule with an empty event list.)"""
    if not valid_signature(request.body, request.headers.get("x-xero-signature", "")):
        return HttpResponse(status=401)
    try:
        events = json.loads(request.body or b"{}").get("events") or []
    except (ValueError, AttributeError):
        return HttpResponse(status=400)
    with transaction.atomic():
        new_ids = services.receive_webhook_events(events)

        def enqueue() -> None:
            from invoicing.accounting.tasks import process_xero_webhook_event

            for event_id in new_ids:
                process_xero_webhook_event.apply_async(args=[event_id], retry=False)

        transaction.on_commit(enqueue)
    return HttpResponse(status=200)
