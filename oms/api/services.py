"""API token services: issuing and revoking the tokens integrations use.

A token is created for the person asking and acts with their roles. The secret is returned
once, from create_api_token, and only its digest is stored. Both writes publish an outbox
event (api_token.created, api_token.revoked) so the audit trail hears of them.
"""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from oms.accounts.roles import Role, has_role
from oms.api.models import ApiToken, hash_secret
from oms.outbox.publish import publish

# Marks the string as an OMS token (for secret scanners and people), not a secret itself.
TOKEN_PREFIX = "oms_"  # noqa: S105
PREFIX_LENGTH = 12
STAFF_ROLES = (Role.SALES, Role.OPERATIONS, Role.FINANCE)


def create_api_token(*, name: str, by) -> tuple[ApiToken, str]:
    """A new token acting as `by`; returns it with its secret, which is never shown again.
    Only people with a staff role may hold tokens: a token can do no more than its owner."""
    if not has_role(by, *STAFF_ROLES):
        raise PermissionDenied("Your role may not use the API.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the integration this token is for."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name to 100 characters or fewer."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name,
            user=by,
            created_by=by,
            prefix=secret[:PREFIX_LENGTH],
            secret_hash=hash_secret(secret),
        )
        publish("api_token.created", subject=token, actor=by, name=name, prefix=token.prefix)
    return token, secret


def revoke_api_token(token: ApiToken, *, by) -> ApiToken:
    """Stop a token working at once. Owners revoke their own; managers revoke any."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.user_id != getattr(by, "pk", None) and not has_role(by, Role.MANAGER):
            raise PermissionDenied("You may revoke only your own tokens.")
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
        publish("api_token.revoked", subject=token, actor=by, prefix=token.prefix)
    return token


# How stale `last_used_at` may get before a request refreshes it: one write a minute per
# token at most, so a busy integration does not write on every call.
LAST_USED_RESOLUTION_SECONDS = 60


def note_token_used(token: ApiToken) -> None:
    now = timezone.now()
    last = token.last_used_at
    if last is None or (now - last).total_seconds() >= LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
