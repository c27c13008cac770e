from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from customers.models import Customer
from oms import money
from orders.models import Order, OrderLine

# Once an invoice leaves draft these fields never change (a database trigger agrees).
IMMUTABLE_FIELDS = (
    "number",
    "kind",
    "order_id",
    "customer_id",
    "issue_date",
    "due_date",
    "currency",
    "net_total",
    "tax_total",
    "gross_total",
    "credited_invoice_id",
)


class InvoiceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Invoice states move only through transitions inside invoicing/services.py.
        if "status" in kwargs:
            raise TypeError("An invoice's state changes only through its services.")
        return super().update(**kwargs)

    def delete(self):
        raise ValidationError("Invoices are never deleted; void or credit them instead.")

    def visible_to(self, user):
        return self.filter(order__in=Order.objects.visible_to(user))

    def issued(self):
        return self.exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])

    def receivable(self):
        """Issued invoices (not credit notes) that still have money owing."""
        return (
            self.issued().exclude(kind=Invoice.Kind.CREDIT_NOTE).exclude(status=Invoice.Status.PAID)
        )


class Invoice(ConcurrentTransitionMixin, models.Model):
    """A bill (or a credit note) for an order. Numbered only at approval; immutable after."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        MILESTONE = "milestone", "Milestone"
        FINAL = "final", "Final"
        CREDIT_NOTE = "credit_note", "Credit note"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        SENT = "sent", "Sent"
        PART_PAID = "part_paid", "Part paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    OPEN_STATES = (Status.APPROVED, Status.SENT, Status.PART_PAID)

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FINAL)
    status = FSMField(max_length=16, choices=Status.choices, default=Status.DRAFT, protected=True)
    number = models.CharField(max_length=32, unique=True, null=True, blank=True)
    credited_invoice = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="For a credit note: the invoice it corrects.",
    )
    currency = models.CharField(max_length=3, default="GBP")
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    net_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    tax_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    gross_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    amount_paid = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    amount_credited = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    disputed = models.BooleanField(default=False)
    dispute_reason = models.TextField(blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    promise_to_pay_date = models.DateField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="For a credit note: why it was raised.")
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "approved", "sent", "part_paid", "paid", "void"]),
                name="invoice_status_known",
            ),
            models.CheckConstraint(condition=Q(gross_total__gte=0), name="invoice_gross_gte_0"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="invoice_paid_gte_0"),
            # A discarded draft is void without a number; everything issued has one.
            models.CheckConstraint(
                condition=Q(status__in=["draft", "void"]) | Q(number__isnull=False),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(kind="credit_note") | Q(credited_invoice__isnull=False),
                name="credit_note_has_original",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="invoice_status_due_idx"),
            models.Index(fields=["customer", "status"], name="invoice_customer_status_idx"),
            # The overdue list reads receivable invoices earliest due first, fifty at a time:
            # this lets a page come straight off the index instead of sorting them all.
            models.Index(
                fields=["due_date", "id"],
                condition=Q(
                    status__in=["approved", "sent", "part_paid"],
                    kind__in=["deposit", "milestone", "final"],
                    disputed=False,
                ),
                name="invoice_receivable_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.get_kind_display().lower()} #{self.pk}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored = {
            name: getattr(instance, name) for name in IMMUTABLE_FIELDS if name in instance.__dict__
        }
        instance._stored_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._stored = {name: getattr(self, name) for name in IMMUTABLE_FIELDS}
        self._stored_status = self.status

    def save(self, *args, **kwargs):
        stored = getattr(self, "_stored", None)
        if stored and self._stored_status != self.Status.DRAFT:
            changed = [name for name, value in stored.items() if getattr(self, name) != value]
            if changed:
                raise ValidationError(
                    f"{self} is issued and cannot be changed ({', '.join(changed)}); "
                    "correct it with a credit note."
                )
        super().save(*args, **kwargs)
        self._stored = {name: getattr(self, name) for name in IMMUTABLE_FIELDS}
        self._stored_status = self.status

    def delete(self, *args, **kwargs):
        raise ValidationError("Invoices are never deleted; void or credit them instead.")

    # --- state machine ------------------------------------------------------------

    @transition(status, source=Status.DRAFT, target=Status.APPROVED)
    def approve(self, *, number: str, issue_date, due_date, by=None) -> None:
        self.number = number
        self.issue_date = issue_date
        self.due_date = due_date
        self.approved_at = timezone.now()
        self.approved_by = by

    @transition(status, source=[Status.APPROVED, Status.SENT], target=Status.SENT)
    def send(self) -> None:
        self.sent_at = self.sent_at or timezone.now()

    @transition(
        status, source=[Status.APPROVED, Status.SENT, Status.PART_PAID], target=Status.PART_PAID
    )
    def mark_part_paid(self) -> None:
        pass

    @transition(status, source=[Status.APPROVED, Status.SENT, Status.PART_PAID], target=Status.PAID)
    def mark_paid(self) -> None:
        self.paid_at = timezone.now()

    @transition(status, source=[Status.PART_PAID, Status.PAID], target=Status.SENT)
    def reopen(self) -> None:
        """A payment was reversed: money is owing again."""
        self.paid_at = None

    @transition(status, source=[Status.APPROVED, Status.SENT], target=Status.VOID)
    def void(self, *, reason: str) -> None:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("A reason is required to void an invoice.")
        self.void_reason = reason
        self.voided_at = timezone.now()

    @transition(status, source=Status.DRAFT, target=Status.VOID)
    def discard(self, *, reason: str) -> None:
        """A draft raised in error: set aside unnumbered, so no number is lost."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("A reason is required to discard a draft invoice.")
        self.void_reason = reason
        self.voided_at = timezone.now()

    # --- derived ------------------------------------------------------------------

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def is_issued(self) -> bool:
        return self.status not in (self.Status.DRAFT, self.Status.VOID)

    @property
    def outstanding(self) -> Decimal:
        if self.is_credit_note or not self.is_issued:
            return Decimal("0.00")
        return max(self.gross_total - self.amount_paid - self.amount_credited, Decimal("0.00"))

    @property
    def days_overdue(self) -> int:
        if not self.due_date or self.outstanding <= 0:
            return 0
        return max((timezone.localdate() - self.due_date).days, 0)


class InvoiceLineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Invoice lines change only through invoicing services.")


class PaymentQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Payments are facts; they are never changed.")

    def delete(self):
        raise ValidationError("Payments are never deleted.")


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deducted_invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="On a final invoice: the earlier invoice this line nets off.",
    )
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=20)
    net_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    tax_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    bills_time = models.BooleanField(
        default=False,
        help_text="Bills a time entry: charged on top of the order total, never netted off.",
    )

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position", "id"]

    def __str__(self) -> str:
        return self.description

    def compute_amounts(self) -> None:
        self.net_amount = money.line_net(self.quantity, self.unit_price, self.discount_percent)
        self.tax_amount = money.line_tax(self.net_amount, self.tax_rate)

    @property
    def gross_amount(self) -> Decimal:
        return self.net_amount + self.tax_amount

    def save(self, *args, **kwargs):
        self._ensure_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._ensure_draft()
        return super().delete(*args, **kwargs)

    def _ensure_draft(self) -> None:
        status = Invoice.objects.filter(pk=self.invoice_id).values_list("status", flat=True)
        if status and status[0] != Invoice.Status.DRAFT:
            raise ValidationError("Lines of an issued invoice cannot be changed.")


class Payment(models.Model):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CARD = "card", "Card"
        CASH = "cash", "Cash"
        CHEQUE = "cheque", "Cheque"
        CREDIT = "credit", "Customer credit"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    date = models.DateField(default=timezone.localdate)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(max_length=128, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    external_id = models.CharField(max_length=64, blank=True, db_index=True)
    receipt = models.ForeignKey(
        "Receipt",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text="The customer receipt this payment is a share of.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.date}"

    @property
    def order_id(self) -> int:
        """The order this money belongs to (events and timeline are filed per order)."""
        return self.invoice.order_id

    def delete(self, *args, **kwargs):
        raise ValidationError("Payments are never deleted.")


class FactQuerySet(models.QuerySet):
    """Rows that record money that moved: written once by the services, never changed."""

    def update(self, **kwargs):
        raise TypeError("These records are facts; they are never changed.")

    def delete(self):
        raise ValidationError("These records are never deleted.")


class Receipt(models.Model):
    """One sum of money received from a customer, spread over their invoices; whatever
    exceeds them becomes customer credit."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="receipts")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    date = models.DateField(default=timezone.localdate)
    method = models.CharField(
        max_length=16, choices=Payment.Method.choices, default=Payment.Method.BANK_TRANSFER
    )
    reference = models.CharField(max_length=128, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"Receipt of {self.currency} {self.amount} on {self.date}"

    def delete(self, *args, **kwargs):
        raise ValidationError("Receipts are never deleted.")


class CustomerCreditQuerySet(FactQuerySet):
    def balance(self, customer, currency: str) -> Decimal:
        total = self.filter(customer=customer, currency=currency).aggregate(
            total=models.Sum("amount")
        )["total"]
        return total or Decimal("0.00")

    def balances(self, customer) -> dict[str, Decimal]:
        """{currency: balance} for every currency the customer holds credit in."""
        rows = (
            self.filter(customer=customer)
            .values("currency")
            .annotate(total=models.Sum("amount"))
            .order_by("currency")
        )
        return {row["currency"]: row["total"] for row in rows if row["total"]}


class CustomerCredit(models.Model):
    """One entry in a customer's credit ledger. Money received beyond their invoices adds
    (positive); credit used to settle an invoice takes away (negative). The balance is
    always the sum of the entries, so it cannot drift from its history."""

    class Kind(models.TextChoices):
        OVERPAYMENT = "overpayment", "Overpayment received"
        APPLIED = "applied", "Applied to an invoice"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credits")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    receipt = models.ForeignKey(
        Receipt, null=True, blank=True, on_delete=models.PROTECT, related_name="credits"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_applied"
    )
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entry"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CustomerCreditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="overpayment") & Q(amount__gt=0) & Q(receipt__isnull=False))
                | (Q(kind="applied") & Q(amount__lt=0) & Q(payment__isnull=False)),
                name="customer_credit_entry_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.currency} {self.amount}"

    def delete(self, *args, **kwargs):
        raise ValidationError("Credit entries are never deleted.")


class TimeEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(order__in=Order.objects.visible_to(user))

    def unbilled(self):
        return self.filter(invoice_line__isnull=True)

    def delete(self):
        raise ValidationError("Time entries are never deleted.")


class TimeEntry(models.Model):
    """Hours someone worked on an order, charged at a rate on top of the order's lines.
    Billed exactly once: `invoice_line` marks the line it went into."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="time_entries")
    person = models.CharField(max_length=200)
    date = models.DateField(default=timezone.localdate)
    hours = models.DecimalField(max_digits=7, decimal_places=2)
    rate = models.DecimalField(max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("20"))
    description = models.CharField(max_length=500)
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TimeEntryQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        verbose_name_plural = "time entries"
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="time_entry_hours_gt_0"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="time_entry_rate_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.person}, {self.hours} h on {self.date}"

    @property
    def net_amount(self) -> Decimal:
        return money.to_money(self.hours * self.rate)

    def delete(self, *args, **kwargs):
        raise ValidationError("Time entries are never deleted.")
