"""Access tokens for the JSON API: one per integration, tied to a person and their roles."""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


def hash_secret(secret: str) -> str:
    """Only this digest is stored; the secret itself is shown once and never kept."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def visible_to(self, user):
        """Everyone sees their own tokens; managers and administrators see every token."""
        from oms.accounts.roles import Role, has_role

        if has_role(user, Role.MANAGER):
            return self
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def delete(self):
        raise ValidationError("API tokens are never deleted; revoke them instead.")


class ApiToken(models.Model):
    """A bearer token an integration presents as `Authorization: Bearer <token>`.

    It acts as `user`, with exactly that person's roles and visibility. Only a SHA-256
    digest of the secret is stored; `prefix` (the token's first characters) tells people
    which token is which without revealing it.
    """

    name = models.CharField(max_length=100, help_text="What the integration is, e.g. 'Webshop'.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="api_token_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def delete(self, *args, **kwargs):
        raise ValidationError("API tokens are never deleted; revoke them instead.")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
