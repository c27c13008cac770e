"""Customer link services: issue, resolve, consume and revoke signed links.

A link reaches exactly one document for one purpose. Tampered, unknown, revoked or
wrong-purpose tokens raise Http404 (nothing is revealed about why); an expired link raises
LinkExpired so the public view can show a polite page without any document data; a link
for a single-use action (accepting a quote, approving a change) is consumed under a row
lock, in the caller's transaction, so the action and the consumption commit together.
Revoking publishes link.revoked.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from oms.links.models import CustomerLink
from oms.outbox.publish import publish

Purpose = CustomerLink.Purpose

# The public page each purpose opens (URL name taking `token`).
ROUTES = {
    Purpose.TRACKING: "orders:track",
    Purpose.INVOICE: "orders:public_invoice",
    Purpose.QUOTE: "quotes:public",
    Purpose.CHANGE_REQUEST: "orders:public_change_request",
}


class LinkExpired(Exception):
    """The link was genuine but its time is up; show the polite page, nothing else."""

    def __init__(self, link: CustomerLink):
        self.link = link
        super().__init__("This link has expired.")


class LinkUsed(Exception):
    """A single-use link whose action was already taken."""

    def __init__(self, link: CustomerLink):
        self.link = link
        super().__init__("This link has already been used.")


def _target_label(target: models.Model) -> str:
    return target._meta.label_lower


def _order_id_of(target: models.Model) -> int | None:
    if _target_label(target) == "orders.order":
        return target.pk
    return getattr(target, "order_id", None)


def default_expiry(purpose: str, *, now: datetime | None = None) -> datetime:
    days = settings.CUSTOMER_LINK_DAYS[purpose]
    return (now or timezone.now()) + timedelta(days=days)


def issue_link(
    target: models.Model,
    *,
    purpose: str,
    by=None,
    expires_at: datetime | None = None,
) -> CustomerLink:
    """A new signed link to `target` for `purpose`, expiring after the purpose's default."""
    purpose = Purpose(purpose)
    now = timezone.now()
    return CustomerLink.objects.create(
        purpose=purpose,
        key=secrets.token_urlsafe(24),
        target_type=_target_label(target),
        target_id=target.pk,
        order_id=_order_id_of(target),
        created_at=now,
        created_by=by,
        expires_at=expires_at or default_expiry(purpose, now=now),
    )


def active_link(target: models.Model, *, purpose: str) -> CustomerLink | None:
    """The newest link for target and purpose that still has at least half its life left."""
    half_life = timedelta(days=settings.CUSTOMER_LINK_DAYS[purpose] / 2)
    return (
        CustomerLink.objects.filter(
            purpose=purpose,
            target_type=_target_label(target),
            target_id=target.pk,
            revoked_at__isnull=True,
            used_at__isnull=True,
            expires_at__gt=timezone.now() + half_life,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _key_from(token: str, purpose: str) -> str:
    try:
        key = signing.loads(token, salt=CustomerLink.salt_for(purpose))
    except signing.BadSignature as exc:
        raise Http404("No such link.") from exc
    if not isinstance(key, str):
        raise Http404("No such link.")
    return key


def resolve_link(token: str, *, purpose: str, touch: bool = True) -> CustomerLink:
    """The link behind `token`: Http404 if tampered, unknown or revoked; LinkExpired if
    its time is up. A used single-use link still resolves (its page explains it was used)."""
    key = _key_from(token, purpose)
    link = CustomerLink.objects.filter(key=key, purpose=purpose).first()
    if link is None or link.is_revoked:
        raise Http404("No such link.")
    if link.is_expired:
        raise LinkExpired(link)
    if touch:
        # A counter, not business state: a plain UPDATE keeps reads lock-free.
        CustomerLink.objects.filter(pk=link.pk).update(
            last_opened_at=timezone.now(), open_count=models.F("open_count") + 1
        )
    return link


def consume_link(link_or_token: CustomerLink | str, *, purpose: str) -> CustomerLink:
    """Use a single-use link once. Call inside the transaction of the action it allows:
    the row is locked, checked and marked used; if the action fails, the use rolls back."""
    if isinstance(link_or_token, CustomerLink):
        if link_or_token.purpose != purpose:
            raise Http404("No such link.")
        key = link_or_token.key
    else:
        key = _key_from(link_or_token, purpose)
    with transaction.atomic():
        link = CustomerLink.objects.select_for_update().filter(key=key, purpose=purpose).first()
        if link is None or link.is_revoked:
            raise Http404("No such link.")
        if link.is_expired:
            raise LinkExpired(link)
        if link.is_used:
            raise LinkUsed(link)
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    return link


def revoke_link(link: CustomerLink, *, by) -> CustomerLink:
    """Staff withdraw a link; it answers 404 from now on."""
    with transaction.atomic():
        link = CustomerLink.objects.select_for_update().get(pk=link.pk)
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.revoked_by = by
            link.save(update_fields=["revoked_at", "revoked_by"])
            publish("link.revoked", subject=link, actor=by, purpose=link.purpose)
    return link


def revoke_links(target: models.Model, *, by, purpose: str | None = None) -> int:
    """Revoke every live link to `target` (optionally of one purpose); returns how many."""
    links = CustomerLink.objects.filter(
        target_type=_target_label(target), target_id=target.pk, revoked_at__isnull=True
    )
    if purpose:
        links = links.filter(purpose=purpose)
    count = 0
    for link in links:
        revoke_link(link, by=by)
        count += 1
    return count


# --- absolute URLs for emails ----------------------------------------------------------


def link_url(link: CustomerLink) -> str:
    return f"{settings.SITE_URL}{reverse(ROUTES[link.purpose], kwargs={'token': link.token})}"


def _url_for(target: models.Model, purpose: str, *, by=None, reuse: bool) -> str:
    link = active_link(target, purpose=purpose) if reuse else None
    return link_url(link or issue_link(target, purpose=purpose, by=by))


def tracking_url(order: models.Model, *, by=None) -> str:
    """The customer's tracking page for `order`; reuses a live link so emails agree."""
    return _url_for(order, Purpose.TRACKING, by=by, reuse=True)


def invoice_url(invoice: models.Model, *, by=None) -> str:
    """The customer's page for one invoice, with its PDF."""
    return _url_for(invoice, Purpose.INVOICE, by=by, reuse=True)


def quote_url(quote: models.Model, *, by=None) -> str:
    """A fresh single-use acceptance link for `quote` (accept or decline once)."""
    return _url_for(quote, Purpose.QUOTE, by=by, reuse=False)


def change_request_url(change_request: models.Model, *, by=None) -> str:
    """A fresh single-use approval link for a change request."""
    return _url_for(change_request, Purpose.CHANGE_REQUEST, by=by, reuse=False)
