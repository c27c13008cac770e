"""Bank statements finance uploads, their lines, and the matches proposed for them.

Nothing here moves money: a confirmed line records a receipt through the invoicing
services, and the line keeps that receipt so it is never recorded twice.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer
from invoicing.models import Invoice, Receipt


class BankStatement(models.Model):
    """One uploaded CSV file. The digest of its bytes refuses the same file twice."""

    filename = models.CharField(max_length=255)
    digest = models.CharField(max_length=64, unique=True)
    currency = models.CharField(max_length=3)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.uploaded_at:%d %b %Y})"


class BankLineQuerySet(models.QuerySet):
    def outstanding(self):
        """Lines still waiting for a person: proposed or unmatched."""
        return self.filter(status__in=[BankLine.Status.PROPOSED, BankLine.Status.UNMATCHED])


class BankLine(models.Model):
    """One money-in line of a statement and where it stands in review."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Match proposed"
        UNMATCHED = "unmatched", "Unmatched"
        CONFIRMED = "confirmed", "Recorded"
        IGNORED = "ignored", "Ignored"
        DUPLICATE = "duplicate", "Already imported"

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    row_number = models.PositiveIntegerField()
    date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reference = models.CharField(max_length=500, blank=True)
    payer = models.CharField(max_length=200, blank=True)
    # Date, amount, reference, payer and how many identical lines came before it in the
    # file: the same money seen in a later, overlapping statement has the same fingerprint.
    fingerprint = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNMATCHED)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    match_note = models.CharField(max_length=300, blank=True)
    ignore_reason = models.TextField(blank=True)
    receipt = models.OneToOneField(
        Receipt, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_line"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = BankLineQuerySet.as_manager()

    class Meta:
        ordering = ["statement", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "row_number"], name="bank_line_row_once"),
            # The same money is recorded at most once, whichever statement carried it.
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(status="confirmed"),
                name="bank_line_confirmed_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(receipt__isnull=False),
                name="bank_line_confirmed_has_receipt",
            ),
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.amount} {self.reference}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PROPOSED, self.Status.UNMATCHED)


class BankMatch(models.Model):
    """A share of a line proposed (or chosen by finance) for one invoice."""

    line = models.ForeignKey(BankLine, on_delete=models.CASCADE, related_name="matches")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ["line", "id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "invoice"], name="bank_match_invoice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} ← {self.amount}"
