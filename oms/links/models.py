from django.apps import apps
from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CustomerLink(models.Model):
    """A link sent to a customer: the row is the truth (expiry, revocation, single use).

    The token in the URL is `key` signed with a salt per purpose, so a tracking token can
    never be replayed as a quote token, and a guessed or edited token fails its signature
    before the database is asked.
    """

    class Purpose(models.TextChoices):
        QUOTE = "quote", "Quote"
        TRACKING = "tracking", "Order tracking"
        INVOICE = "invoice", "Invoice"
        CHANGE_REQUEST = "change_request", "Change request"

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    key = models.CharField(max_length=64, unique=True)
    target_type = models.CharField(max_length=64, help_text="app_label.model of the document")
    target_id = models.BigIntegerField()
    order_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=["quote", "tracking", "invoice", "change_request"]),
                name="customerlink_purpose_known",
            ),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id", "purpose"], name="link_target_idx"),
            models.Index(fields=["order_id", "created_at"], name="link_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.target_type} #{self.target_id}"

    @staticmethod
    def salt_for(purpose: str) -> str:
        return f"oms.links.{purpose}"

    @property
    def token(self) -> str:
        # Deterministic: the same row always yields the same token, so it need not be stored.
        return signing.dumps(self.key, salt=self.salt_for(self.purpose), compress=False)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    @property
    def is_active(self) -> bool:
        return not (self.is_revoked or self.is_expired)

    @property
    def state(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired:
            return "expired"
        if self.is_used:
            return "used"
        return "active"

    def get_target(self) -> models.Model:
        """The one document this link reaches (raises DoesNotExist if it is gone)."""
        model = apps.get_model(self.target_type)
        return model._default_manager.get(pk=self.target_id)
