"""Recording the audit log: one function, `record_audit`, for every sensitive act.

The entry is written in the caller's transaction, so an act that rolls back leaves no
record of having happened. Entries are append-only; nothing here changes or removes one.
"""

import ipaddress
from typing import Any

from django.db import models

from oms.audit.models import AuditEntry
from oms.links.ratelimit import client_ip

Action = AuditEntry.Action


def _ip_of(request) -> str | None:
    if request is None:
        return None
    candidate = client_ip(request)
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None  # "unknown", or a forwarded header that is not an address


def _actor_of(request, actor):
    if actor is not None:
        return actor
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def record_audit(
    action: str,
    *,
    request=None,
    actor=None,
    target: models.Model | None = None,
    **details: Any,
) -> AuditEntry:
    """Write one audit entry: `action` by `actor` (default: the request's user) on `target`,
    from the request's IP, with any `details` as JSON."""
    actor = _actor_of(request, actor)
    entry = AuditEntry(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=(getattr(actor, "email", "") or str(actor or ""))[:254],
        ip=_ip_of(request),
        details=details,
    )
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk or "")
        entry.target_repr = _safe_repr(target)
    if request is not None and "path" not in details:
        entry.details = {"path": request.path[:300], **details}
    entry.save()
    return entry


def _safe_repr(target: models.Model) -> str:
    try:
        return str(target)[:200]
    except Exception:  # a broken __str__ must not lose the audit entry
        return f"{target._meta.verbose_name} {target.pk}"
