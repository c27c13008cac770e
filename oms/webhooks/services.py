"""Webhook services: register endpoints, fan events out to them, and deliver, exactly once
per event and endpoint, at least once on the wire.

Contract:
- create/update/pause/resume/archive_endpoint, rotate_secret and send_ping are the manager's
  actions; each locks the endpoint row. Pausing holds the endpoint's pending deliveries;
  resuming sends them again with a fresh retry window.
- queue_deliveries() is called by the fan-out handler inside its transaction: one
  WebhookDelivery per (outbox event, endpoint, public type), unique, so running twice adds
  nothing. After commit it wakes the sender.
- send_due() is the beat sweeper. It claims one due delivery at a time with
  SELECT ... FOR UPDATE SKIP LOCKED, leases it (the claim moves next_attempt_at past the
  timeout, so a worker killed mid-POST leaves it due again), commits, POSTs with no lock
  held, then records the attempt. Failures back off exponentially with jitter until the
  retry window closes; an endpoint failing too often in a row is paused and its owner told.
"""

import ipaddress
import logging
import random
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from oms.accounts.roles import Role, has_role
from oms.outbox.models import OutboxEvent
from oms.webhooks import events
from oms.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, new_secret
from oms.webhooks.signing import signature_header

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 200
EXCERPT_CHARS = 2000
# Beyond the POST timeout, how long a claimed delivery stays leased to its worker.
LEASE_MARGIN_SECONDS = 30
USER_AGENT = "OMS-Webhooks/1"

Endpoint = WebhookEndpoint
Delivery = WebhookDelivery


# --- the manager's actions -------------------------------------------------------------


def _ensure_manager(by) -> None:
    """Only managers (and administrators) point the business's events at other systems."""
    if not has_role(by, Role.MANAGER):
        raise PermissionDenied("Only managers look after webhooks.")


def _lock(endpoint: Endpoint) -> Endpoint:
    return Endpoint.objects.select_for_update().get(pk=endpoint.pk)


def _clean_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - events.EVENT_TYPE_NAMES)
    if unknown:
        raise ValidationError(f"Unknown event types: {', '.join(unknown)}.")
    if not event_types:
        raise ValidationError("Choose at least one event type.")
    return [name for name, _ in events.EVENT_TYPES if name in event_types]


def _clean_url(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS and _is_private_host(host):
        raise ValidationError(
            f"{host} is an address inside the private network; webhooks go to public "
            "addresses unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set."
        )
    return url


def _is_private_host(host: str) -> bool:
    """A host written as a loopback, private or link-local address (no DNS lookup: the
    sender checks what a name resolves to when it sends)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def create_endpoint(*, url: str, description: str, event_types: list[str], by) -> Endpoint:
    """Register a receiver; its secret is generated here and shown to the manager once."""
    _ensure_manager(by)
    with transaction.atomic():
        return Endpoint.objects.create(
            url=_clean_url(url),
            description=description,
            event_types=_clean_types(event_types),
            owner=by,
        )


def update_endpoint(
    endpoint: Endpoint, *, url: str, description: str, event_types: list[str], by
) -> Endpoint:
    """Change where events go and which. Deliveries already queued keep their body and go
    to the new URL."""
    _ensure_manager(by)
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _ensure_not_archived(endpoint)
        endpoint.url = _clean_url(url)
        endpoint.description = description
        endpoint.event_types = _clean_types(event_types)
        endpoint.save(update_fields=["url", "description", "event_types", "updated_at"])
    return endpoint


SECRET_OVERLAP = timedelta(hours=24)


def rotate_secret(endpoint: Endpoint, *, by, overlap: bool = False) -> Endpoint:
    """A new signing secret, used from the next attempt on. With `overlap` the old one
    also signs for SECRET_OVERLAP, so receivers switch without refusing anything;
    without it (a leaked secret) the old one stops at once."""
    _ensure_manager(by)
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _ensure_not_archived(endpoint)
        now = timezone.now()
        endpoint.previous_secret = endpoint.secret if overlap else ""
        endpoint.previous_secret_until = now + SECRET_OVERLAP if overlap else None
        endpoint.secret = new_secret()
        endpoint.secret_rotated_at = now
        endpoint.save(
            update_fields=[
                "secret",
                "secret_rotated_at",
                "previous_secret",
                "previous_secret_until",
                "updated_at",
            ]
        )
    return endpoint


def pause_endpoint(endpoint: Endpoint, *, by, reason: str = "") -> Endpoint:
    """Stop sending; events keep queueing, held until the endpoint is resumed."""
    _ensure_manager(by)
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _ensure_not_archived(endpoint)
        if endpoint.status == Endpoint.Status.PAUSED:
            raise ValidationError("This endpoint is already paused.")
        who = by.get_full_name() or by.email
        _pause(endpoint, reason=reason or f"Paused by {who}.", now=timezone.now())
    return endpoint


def resume_endpoint(endpoint: Endpoint, *, by) -> Endpoint:
    """Send again: the held deliveries are queued now, each with a fresh retry window."""
    _ensure_manager(by)
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _ensure_not_archived(endpoint)
        if endpoint.status != Endpoint.Status.PAUSED:
            raise ValidationError("This endpoint is not paused.")
        now = timezone.now()
        endpoint.status = Endpoint.Status.ACTIVE
        endpoint.consecutive_failures = 0
        endpoint.paused_at = None
        endpoint.paused_reason = ""
        endpoint.save(
            update_fields=[
                "status",
                "consecutive_failures",
                "paused_at",
                "paused_reason",
                "updated_at",
            ]
        )
        held = Delivery.objects.select_for_update().filter(
            endpoint=endpoint, status=Delivery.Status.PAUSED
        )
        for delivery in held:
            _requeue(delivery, now)
        transaction.on_commit(wake)
    return endpoint


def archive_endpoint(endpoint: Endpoint, *, by) -> Endpoint:
    """Retire an endpoint for good; its log stays, deliveries not yet made are dropped."""
    _ensure_manager(by)
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _ensure_not_archived(endpoint)
        now = timezone.now()
        endpoint.status = Endpoint.Status.ARCHIVED
        endpoint.archived_at = now
        endpoint.save(update_fields=["status", "archived_at", "updated_at"])
        waiting = Delivery.objects.select_for_update().filter(
            endpoint=endpoint, status__in=[Delivery.Status.PENDING, Delivery.Status.PAUSED]
        )
        for delivery in waiting:
            delivery.status = Delivery.Status.FAILED
            delivery.last_error = "The endpoint was archived."
            delivery.save(update_fields=["status", "last_error"])
    return endpoint


def send_ping(endpoint: Endpoint, *, by) -> Delivery:
    """Queue a signed test event; the worker sends it within seconds and logs the answer."""
    _ensure_manager(by)
    with transaction.atomic():
        endpoint = _lock(endpoint)
        _ensure_not_archived(endpoint)
        if endpoint.status != Endpoint.Status.ACTIVE:
            raise ValidationError("Resume the endpoint before sending a test ping.")
        now = timezone.now()
        delivery = _new_delivery(endpoint, events.ping_event(now), source=None, now=now)
        transaction.on_commit(wake)
    return delivery


def redeliver(delivery: Delivery, *, by) -> Delivery:
    """Send a delivered or failed event once more (a receiver lost it, or was fixed)."""
    _ensure_manager(by)
    with transaction.atomic():
        endpoint = _lock(delivery.endpoint)
        _ensure_not_archived(endpoint)
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status not in (Delivery.Status.DELIVERED, Delivery.Status.FAILED):
            raise ValidationError("This delivery is still queued; it will be sent anyway.")
        now = timezone.now()
        if endpoint.status == Endpoint.Status.PAUSED:
            delivery.status = Delivery.Status.PAUSED
            delivery.save(update_fields=["status"])
        else:
            _requeue(delivery, now)
            transaction.on_commit(wake)
    return delivery


def _ensure_not_archived(endpoint: Endpoint) -> None:
    if endpoint.status == Endpoint.Status.ARCHIVED:
        raise ValidationError("This endpoint is archived.")


def _requeue(delivery: Delivery, now: datetime) -> None:
    delivery.status = Delivery.Status.PENDING
    delivery.next_attempt_at = now
    delivery.give_up_at = now + retry_window()
    delivery.window_attempts = 0
    delivery.save(update_fields=["status", "next_attempt_at", "give_up_at", "window_attempts"])


def retry_window() -> timedelta:
    return timedelta(hours=settings.WEBHOOK_RETRY_HOURS)


# --- fan-out ---------------------------------------------------------------------------------


def queue_deliveries(source: OutboxEvent) -> int:
    """One delivery per subscribed endpoint for each public event `source` becomes.
    Endpoints paused now hold theirs until resumed. Returns how many rows were written."""
    types = events.SOURCES.get(source.kind, ())
    if not types:
        return 0
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.exclude(status=Endpoint.Status.ARCHIVED).order_by("pk")
        if any(endpoint.subscribes_to(event_type) for event_type in types)
    ]
    if not endpoints:
        return 0  # nobody listens: no payload to build
    public = events.public_events(source)
    now = timezone.now()
    written = 0
    for event in public:
        for endpoint in endpoints:
            if not endpoint.subscribes_to(event.type):
                continue
            if Delivery.objects.filter(
                source_event=source, endpoint=endpoint, event_type=event.type
            ).exists():
                continue  # this event already fanned out (a redelivered handler)
            _new_delivery(endpoint, event, source=source, now=now)
            written += 1
    if written:
        transaction.on_commit(wake)
    return written


def _new_delivery(
    endpoint: Endpoint, event: events.PublicEvent, *, source: OutboxEvent | None, now
) -> Delivery:
    held = endpoint.status == Endpoint.Status.PAUSED
    return Delivery.objects.create(
        endpoint=endpoint,
        source_event=source,
        event_id=event.id,
        event_type=event.type,
        body=event.body(),
        status=Delivery.Status.PAUSED if held else Delivery.Status.PENDING,
        next_attempt_at=now,
        give_up_at=now + retry_window(),
    )


def wake() -> None:
    """Ask a worker to send now. Best effort: the beat sweep sends anything this misses."""
    try:
        from oms.webhooks.tasks import send_due_webhooks

        send_due_webhooks.apply_async(retry=False)
    except Exception:  # broker unreachable: the periodic sweep delivers it
        logger.warning("Broker unreachable; webhooks wait for the next sweep.")


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    started_at: datetime
    duration_ms: int
    status_code: int | None
    excerpt: str
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send_due(*, limit: int = SWEEP_LIMIT) -> int:
    """The sweeper: attempt every delivery that is due. Returns how many were attempted."""
    attempted = 0
    for _ in range(limit):
        claim = _claim_next(timezone.now())
        if claim is None:
            break
        delivery, number = claim
        outcome = post(delivery)
        record_attempt(delivery.pk, number, outcome)
        attempted += 1
    return attempted


def _claim_next(now: datetime) -> tuple[Delivery, int] | None:
    with transaction.atomic():
        # SKIP LOCKED: concurrent sweeps share the backlog instead of sending a row twice.
        delivery = (
            Delivery.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .order_by("next_attempt_at", "id")
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.window_attempts += 1
        # The lease: the row is committed as not due until the POST has surely ended, so
        # no lock is held across the network, and a worker that dies leaves it due again.
        lease = settings.WEBHOOK_TIMEOUT + LEASE_MARGIN_SECONDS
        delivery.next_attempt_at = now + timedelta(seconds=lease)
        delivery.save(update_fields=["attempts", "window_attempts", "next_attempt_at"])
    return delivery, delivery.attempts


def headers_for(delivery: Delivery, *, secrets: list[str], timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-OMS-Event": delivery.event_type,
        "X-OMS-Delivery": str(delivery.uuid),
        "X-OMS-Timestamp": str(timestamp),
        "X-OMS-Signature": signature_header(secrets, timestamp, delivery.body),
    }


def post(delivery: Delivery) -> Outcome:
    """POST the delivery's body, signed now. Never raises: every failure is an outcome."""
    endpoint = delivery.endpoint
    started_at = timezone.now()
    timestamp = int(time.time())
    clock = time.monotonic()
    status_code, excerpt, error = None, "", ""
    try:
        _refuse_private_network(endpoint.url)
        response = requests.post(
            endpoint.url,
            data=delivery.body.encode(),
            headers=headers_for(
                delivery, secrets=endpoint.signing_secrets(started_at), timestamp=timestamp
            ),
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,  # a redirect is not an answer; the URL should be fixed
            stream=True,
        )
        with response:
            status_code = response.status_code
            # Read only the start: a receiver's body is logged, not trusted to be small.
            raw = response.raw.read(EXCERPT_CHARS, decode_content=True) or b""
            excerpt = raw.decode("utf-8", errors="replace")
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except (requests.RequestException, PrivateNetwork) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - clock) * 1000)
    return Outcome(started_at, duration_ms, status_code, excerpt, error)


class PrivateNetwork(Exception):
    """The receiver's name resolves to an address inside the private network."""


def _refuse_private_network(url: str) -> None:
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return  # unresolvable: the POST fails and says so
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            raise PrivateNetwork(f"{host} resolves to {address}, inside the private network.")


def record_attempt(delivery_id: int, number: int, outcome: Outcome) -> Delivery:
    """Log the attempt, then settle the delivery: delivered, retried later, or failed.
    Locks the endpoint before the delivery, like every service here, so they never
    deadlock."""
    now = timezone.now()
    with transaction.atomic():
        endpoint_id = Delivery.objects.values_list("endpoint_id", flat=True).get(pk=delivery_id)
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
            succeeded=outcome.succeeded,
        )
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        fields = ["last_status_code", "last_error"]
        if outcome.succeeded:
            endpoint.consecutive_failures = 0
            endpoint.save(update_fields=["consecutive_failures"])
            delivery.status = Delivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.save(update_fields=[*fields, "status", "delivered_at"])
            return delivery
        endpoint.consecutive_failures += 1
        endpoint.save(update_fields=["consecutive_failures"])
        # Only the attempt that still owns the row reschedules it; a resume or a second
        # claim after a lost lease has taken it over.
        if delivery.status == Delivery.Status.PENDING and delivery.attempts == number:
            if now >= delivery.give_up_at:
                delivery.status = Delivery.Status.FAILED
                fields.append("status")
            else:
                retry_at = now + backoff(delivery.window_attempts)
                delivery.next_attempt_at = min(retry_at, delivery.give_up_at)
                fields.append("next_attempt_at")
        delivery.save(update_fields=fields)
        _pause_if_failing(endpoint, delivery, now)
    return delivery


def backoff(attempt: int) -> timedelta:
    """Exponential, capped, with equal jitter: half the delay fixed, half random, so many
    endpoints failing together do not retry in lockstep."""
    delay = min(
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1),
        settings.WEBHOOK_RETRY_MAX_SECONDS,
    )
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))


def _pause_if_failing(endpoint: Endpoint, delivery: Delivery, now: datetime) -> None:
    if endpoint.status != Endpoint.Status.ACTIVE:
        return
    limit = settings.WEBHOOK_PAUSE_AFTER_FAILURES
    if delivery.status == Delivery.Status.FAILED:
        hours = settings.WEBHOOK_RETRY_HOURS
        reason = f"A {delivery.event_type} delivery still failed after {hours} hours of retries."
    elif endpoint.consecutive_failures >= limit:
        reason = f"{endpoint.consecutive_failures} delivery attempts in a row failed."
    else:
        return
    _pause(endpoint, reason=f"{reason} Last error: {delivery.last_error}"[:300], now=now)
    _tell_owner(endpoint)


def _pause(endpoint: Endpoint, *, reason: str, now: datetime) -> None:
    endpoint.status = Endpoint.Status.PAUSED
    endpoint.paused_at = now
    endpoint.paused_reason = reason[:300]
    endpoint.save(update_fields=["status", "paused_at", "paused_reason", "updated_at"])
    waiting = Delivery.objects.select_for_update().filter(
        endpoint=endpoint, status=Delivery.Status.PENDING
    )
    for delivery in waiting:
        delivery.status = Delivery.Status.PAUSED
        delivery.save(update_fields=["status"])


def _tell_owner(endpoint: Endpoint) -> None:
    """An in-app notification and an email to whoever registered the endpoint, once per
    pause (the key carries the pause time)."""
    from oms.automation.services import mail_after_writes, notify, send_email

    owner = endpoint.owner
    key = f"webhook-paused:{endpoint.pk}:{endpoint.paused_at.timestamp():.0f}"
    path = reverse("webhooks:detail", kwargs={"pk": endpoint.pk})
    url = settings.SITE_URL + path
    title = f"Webhook endpoint paused: {endpoint}"
    context = {"endpoint": endpoint, "url": url, "owner": owner}
    notify(owner, key=key, title=title, body=endpoint.paused_reason, url=path)
    if owner.email:
        with mail_after_writes():
            send_email(
                key=key,
                to=owner.email,
                subject=title,
                text=render_to_string("webhooks/_endpoint_paused_email.txt", context),
                html=render_to_string("webhooks/_endpoint_paused_email.html", context),
            )
