"""What the accounting integration remembers: the connection, the mappings, and per OMS record
what was pushed where, with a log of every attempt."""

from decimal import Decimal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _fernet() -> MultiFernet:
    """Tokens are encrypted at rest; TOKEN_ENCRYPTION_KEY may list several keys (newest first)
    so the key can be rotated without disconnecting."""
    keys = [key.strip() for key in (settings.TOKEN_ENCRYPTION_KEY or "").split(",") if key.strip()]
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEY must be set to store accounting tokens.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEY must hold Fernet keys (Fernet.generate_key())."
        ) from error


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(value: str) -> str:
    if not value:
        return ""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "Stored tokens cannot be read with TOKEN_ENCRYPTION_KEY."
        ) from error


class Provider(models.TextChoices):
    XERO = "xero", "Xero"


class XeroConnection(models.Model):
    """The one connected organisation. Tokens live here encrypted and never leave the server."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Connected"
        RECONNECT = "reconnect", "Needs reconnecting"
        DISCONNECTED = "disconnected", "Disconnected"

    provider = models.CharField(
        max_length=16, choices=Provider.choices, default=Provider.XERO, unique=True
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DISCONNECTED)
    tenant_id = models.CharField(max_length=64, blank=True)
    org_name = models.CharField("organisation", max_length=200, blank=True)
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    scope = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_count = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    payments_polled_at = models.DateTimeField(
        null=True, blank=True, help_text="If-Modified-Since for the next payment poll."
    )
    parked_until = models.DateTimeField(
        null=True, blank=True, help_text="Xero's daily limit was reached; no calls before this."
    )
    park_alerted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "reconnect", "disconnected"]),
                name="xero_connection_status_known",
            ),
        ]

    def __str__(self) -> str:
        return self.org_name or "Xero"

    def __repr__(self) -> str:
        # Never the tokens, even in a traceback.
        return f"<XeroConnection {self.pk} {self.status} {self.org_name!r}>"

    @property
    def access_token(self) -> str:
        return decrypt(self.access_token_encrypted)

    @access_token.setter
    def access_token(self, value: str) -> None:
        self.access_token_encrypted = encrypt(value)

    @property
    def refresh_token(self) -> str:
        return decrypt(self.refresh_token_encrypted)

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = encrypt(value)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_parked(self) -> bool:
        return bool(self.parked_until and self.parked_until > timezone.now())


def default_tax_types() -> dict:
    # UK defaults: standard 20%, reduced 5%, zero-rated.
    return {"20.00": "OUTPUT2", "5.00": "RROUTPUT", "0.00": "ZERORATEDOUTPUT"}


def default_payment_accounts() -> dict:
    return {"bank_transfer": "090", "card": "090", "cash": "090", "cheque": "090"}


class AccountMapping(models.Model):
    """How OMS values become Xero codes. One row (pk=1); `current()` creates it with defaults."""

    class InvoiceStatus(models.TextChoices):
        AUTHORISED = "AUTHORISED", "Approved (awaiting payment)"
        DRAFT = "DRAFT", "Draft (approve in Xero)"

    sales_account_code = models.CharField(max_length=10, default="200")
    tax_types = models.JSONField(default=default_tax_types, help_text="Tax rate % -> Xero tax type")
    payment_accounts = models.JSONField(
        default=default_payment_accounts, help_text="Payment method -> Xero bank account code"
    )
    default_payment_account = models.CharField(max_length=10, default="090")
    invoice_status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.AUTHORISED
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Xero mappings"

    @classmethod
    def current(cls) -> "AccountMapping":
        mapping, _ = cls.objects.get_or_create(pk=1)
        return mapping

    def tax_type_for(self, rate: Decimal) -> str | None:
        return self.tax_types.get(f"{Decimal(rate).quantize(Decimal('0.01'))}")

    def bank_account_for(self, method: str) -> str:
        return self.payment_accounts.get(method) or self.default_payment_account


class SyncRecord(models.Model):
    """Where one OMS record stands in the accounting system: its external id and sync status."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact"
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"
        PAYMENT = "payment", "Payment"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.XERO)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    local_id = models.BigIntegerField()
    label = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    external_status = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    pushed_version = models.CharField(
        max_length=64, blank=True, help_text="Fingerprint of the payload last accepted."
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "kind", "local_id"], name="sync_record_one_per_record"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "synced", "failed"]),
                name="sync_record_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="sync_record_status_idx"),
            models.Index(fields=["provider", "kind", "external_id"], name="sync_record_ext_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label or self.local_id}"


class SyncLog(models.Model):
    """One attempt to talk to the accounting system, kept for finance to read."""

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.XERO)
    record = models.ForeignKey(
        SyncRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="logs"
    )
    action = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome}"


class WebhookEvent(models.Model):
    """A webhook event received from the provider; the unique key makes redelivery a no-op."""

    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.XERO)
    event_key = models.CharField(max_length=64, unique=True)
    tenant_id = models.CharField(max_length=64, blank=True)
    category = models.CharField(max_length=32)
    event_type = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=64)
    event_date = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.category} {self.event_type} {self.resource_id}"


class PulledPayment(models.Model):
    """A payment made in the accounting system and recorded in the OMS, once."""

    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.XERO)
    external_id = models.CharField(max_length=64)
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(
        "invoicing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="pulled_payment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.amount}"
