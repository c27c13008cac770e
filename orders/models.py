from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from customers.models import Customer
from oms import money
from oms.accounts.roles import Role, has_role


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def delete(self):
        raise ValidationError("Products are never deleted; archive them instead.")


class Product(models.Model):
    """An entry in the catalogue of goods, services and time that orders are made of.

    Products are archived (`active=False`), never deleted: old orders still point at them.
    """

    class Kind(models.TextChoices):
        GOODS = "goods", "Goods"
        SERVICE = "service", "Service"
        TIME = "time", "Time"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GOODS)
    unit = models.CharField(max_length=16, default="each")
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField("tax rate %", max_digits=5, decimal_places=2, default=20)
    active = models.BooleanField(default=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def delete(self, *args, **kwargs):
        raise ValidationError("Products are never deleted; archive them instead.")


def _is_sales(order, user) -> bool:
    return has_role(user, Role.SALES)


def _is_operations(order, user) -> bool:
    return has_role(user, Role.OPERATIONS)


def _is_finance(order, user) -> bool:
    return has_role(user, Role.FINANCE)


def _is_manager(order, user) -> bool:
    return has_role(user, Role.MANAGER)


ORDER_STATES = [
    "enquiry",
    "quoted",
    "confirmed",
    "in_progress",
    "on_hold",
    "delivered",
    "invoiced",
    "paid",
    "lost",
    "cancelled",
]


class OrderQuerySet(models.QuerySet):
    def visible_to(self, user):
        if has_role(user, Role.OPERATIONS, Role.FINANCE):
            return self
        if has_role(user, Role.SALES):
            return self.filter(Q(owner=user) | Q(customer__account_manager=user))
        return self.none()

    def open(self):
        return self.exclude(status__in=Order.CLOSED_STATES)

    def update(self, **kwargs):
        # The state only moves through a transition inside a service (orders/services.py).
        if "status" in kwargs:
            raise TypeError("An order's state changes only through its services.")
        return super().update(**kwargs)

    def delete(self):
        raise ValidationError("Orders are never deleted; lose or cancel them instead.")


class Order(ConcurrentTransitionMixin, models.Model):
    """One customer order, carried by an enforced state machine from enquiry to payment.

    Transitions check only this row and set its timestamps; services in orders/services.py
    lock the row, check permissions and cross-row rules, and record what happened.
    """

    class Status(models.TextChoices):
        ENQUIRY = "enquiry", "Enquiry"
        QUOTED = "quoted", "Quoted"
        CONFIRMED = "confirmed", "Confirmed"
        IN_PROGRESS = "in_progress", "In progress"
        ON_HOLD = "on_hold", "On hold"
        DELIVERED = "delivered", "Delivered"
        INVOICED = "invoiced", "Invoiced"
        PAID = "paid", "Paid"
        LOST = "lost", "Lost"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        PRODUCT = "product", "Product"
        SERVICE = "service", "Service"
        FIELD_JOB = "field_job", "Field job"
        MANUFACTURING = "manufacturing", "Manufacturing"

    class Source(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"
        WEB = "web", "Web"
        REFERRAL = "referral", "Referral"
        OTHER = "other", "Other"

    CLOSED_STATES = (Status.PAID, Status.LOST, Status.CANCELLED)
    # States in which an order may carry deposit or milestone invoices.
    STAGED_BILLING_STATES = (Status.CONFIRMED, Status.IN_PROGRESS, Status.DELIVERED)

    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_orders",
        help_text="The salesperson responsible.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_orders",
        help_text="Who in operations carries out the work.",
    )
    kind = models.CharField("order type", max_length=16, choices=Kind.choices, default=Kind.PRODUCT)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.OTHER)
    title = models.CharField(max_length=200)
    specification = models.TextField(blank=True)
    delivery_address = models.TextField(blank=True)
    requested_date = models.DateField(null=True, blank=True)
    agreed_date = models.DateField(null=True, blank=True)
    special_instructions = models.TextField(blank=True)
    po_reference = models.CharField("customer PO reference", max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, default="GBP")

    status = FSMField(max_length=16, choices=Status.choices, default=Status.ENQUIRY, protected=True)
    held_from = models.CharField(max_length=16, choices=Status.choices, blank=True)
    hold_reason = models.TextField(blank=True)
    hold_resume_date = models.DateField(null=True, blank=True)
    closed_reason = models.TextField(blank=True, help_text="Why the order was lost or cancelled.")
    delivery_proof = models.TextField(
        blank=True, help_text="Proof of delivery: signature, photo reference, tracking, notes."
    )
    delivered_to = models.CharField(
        max_length=200, blank=True, help_text="Who received the delivery or signed off the work."
    )

    net_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    tax_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    gross_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    enquiry_at = models.DateTimeField(default=timezone.now)
    quoted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    in_progress_at = models.DateTimeField(null=True, blank=True)
    on_hold_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    invoiced_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ORDER_STATES), name="order_status_known"),
            models.CheckConstraint(condition=Q(net_total__gte=0), name="order_net_gte_0"),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="order_status_idx"),
            models.Index(fields=["owner", "status"], name="order_owner_status_idx"),
            models.Index(fields=["customer", "status"], name="order_customer_status_idx"),
            models.Index(fields=["po_reference"], name="order_po_idx"),
            # Metrics select by the date an order reached a stage, or last changed stage.
            models.Index(fields=["enquiry_at"], name="order_enquiry_at_idx"),
            models.Index(
                fields=["delivered_at"],
                name="order_delivered_at_idx",
                condition=Q(delivered_at__isnull=False),
            ),
            models.Index(
                fields=["paid_at"], name="order_paid_at_idx", condition=Q(paid_at__isnull=False)
            ),
            models.Index(fields=["status_changed_at"], name="order_status_changed_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    # --- state machine: each transition touches this row only ----------------

    def _enter(self, state: str) -> None:
        now = timezone.now()
        self.status_changed_at = now
        setattr(self, f"{state}_at", now)

    @transition(
        status,
        source=[Status.ENQUIRY, Status.QUOTED],
        target=Status.QUOTED,
        permission=_is_sales,
        custom={"label": "Send quote"},
    )
    def send_quote(self) -> None:
        self._enter(self.Status.QUOTED)

    @transition(
        status,
        source=[Status.ENQUIRY, Status.QUOTED],
        target=Status.CONFIRMED,
        permission=_is_sales,
        custom={"label": "Confirm order"},
    )
    def confirm(self) -> None:
        self._enter(self.Status.CONFIRMED)

    @transition(
        status,
        source=[Status.ENQUIRY, Status.QUOTED],
        target=Status.LOST,
        permission=_is_sales,
        custom={"label": "Mark lost", "needs_reason": True},
    )
    def lose(self, *, reason: str) -> None:
        self.closed_reason = _required(reason)
        self._enter(self.Status.LOST)

    @transition(
        status,
        source=Status.LOST,
        target=Status.ENQUIRY,
        permission=_is_sales,
        custom={"label": "Reopen"},
    )
    def reopen(self) -> None:
        self.closed_reason = ""
        self._enter(self.Status.ENQUIRY)

    @transition(
        status,
        source=Status.CONFIRMED,
        target=Status.IN_PROGRESS,
        permission=_is_operations,
        custom={"label": "Start work"},
    )
    def start_work(self) -> None:
        self._enter(self.Status.IN_PROGRESS)

    @transition(
        status,
        source=[Status.CONFIRMED, Status.IN_PROGRESS],
        target=Status.ON_HOLD,
        permission=_is_operations,
        custom={"label": "Put on hold", "needs_reason": True},
    )
    def hold(self, *, reason: str, resume_date=None) -> None:
        self.held_from = self.status
        self.hold_reason = _required(reason)
        self.hold_resume_date = resume_date
        self._enter(self.Status.ON_HOLD)

    @transition(
        status,
        source=Status.ON_HOLD,
        target=RETURN_VALUE(Status.CONFIRMED, Status.IN_PROGRESS),
        permission=_is_operations,
        custom={"label": "Resume"},
    )
    def resume(self) -> str:
        """Back to the stage the order was held from."""
        target = self.held_from or self.Status.CONFIRMED
        self.held_from = ""
        self.hold_reason = ""
        self.hold_resume_date = None
        self.status_changed_at = timezone.now()
        return target

    @transition(
        status,
        source=Status.IN_PROGRESS,
        target=Status.DELIVERED,
        permission=_is_operations,
        custom={"label": "Mark delivered"},
    )
    def deliver(self) -> None:
        self._enter(self.Status.DELIVERED)

    @transition(
        status,
        source=Status.DELIVERED,
        target=Status.IN_PROGRESS,
        permission=_is_operations,
        custom={"label": "Rework", "needs_reason": True},
    )
    def rework(self, *, reason: str) -> None:
        _required(reason)
        self._enter(self.Status.IN_PROGRESS)

    @transition(
        status,
        source=Status.DELIVERED,
        target=Status.INVOICED,
        permission=_is_finance,
        custom={"label": "Mark invoiced", "automatic": True},
    )
    def mark_invoiced(self) -> None:
        self._enter(self.Status.INVOICED)

    @transition(
        status,
        source=Status.INVOICED,
        target=Status.PAID,
        permission=_is_finance,
        custom={"label": "Mark paid", "automatic": True},
    )
    def mark_paid(self) -> None:
        self._enter(self.Status.PAID)

    @transition(
        status,
        source=Status.INVOICED,
        target=Status.DELIVERED,
        permission=_is_finance,
        custom={"label": "Reopen billing", "automatic": True},
    )
    def reopen_billing(self) -> None:
        self.status_changed_at = timezone.now()

    @transition(
        status,
        source=[Status.CONFIRMED, Status.IN_PROGRESS, Status.ON_HOLD],
        target=Status.CANCELLED,
        permission=_is_manager,
        custom={"label": "Cancel order", "needs_reason": True},
    )
    def cancel(self, *, reason: str) -> None:
        self.closed_reason = _required(reason)
        self._enter(self.Status.CANCELLED)

    # --- derived ----------------------------------------------------------------

    @property
    def is_on_hold(self) -> bool:
        return self.status == self.Status.ON_HOLD

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATES

    def actions_for(self, user) -> list:
        """The transitions `user` may take now, for buttons; automatic ones are left out."""
        return [
            t
            for t in self.get_available_user_status_transitions(user)
            if not t.custom.get("automatic")
        ]

    @property
    def lines_editable(self) -> bool:
        """Lines are priced and changed only before the customer commits."""
        return self.status in (self.Status.ENQUIRY, self.Status.QUOTED)

    def delete(self, *args, **kwargs):
        raise ValidationError("Orders are never deleted; lose or cancel them instead.")

    # --- progress beside the stage: delivery and billing ----------------------------
    # Read from prefetched `lines` and `invoices` when present (one query each otherwise).
    # Invoice states and kinds are named as strings so orders need not import invoicing.

    def _billing(self) -> tuple[list, list]:
        """Issued invoices and the credit notes that count against them. A void invoice and
        the credit notes against it cancel out, so both are left out (as invoicing counts)."""
        issued = [i for i in self.invoices.all() if i.status != "draft"]
        void = {i.pk for i in issued if i.status == "void"}
        invoices = [i for i in issued if i.kind != "credit_note" and i.pk not in void]
        credits = [
            i for i in issued if i.kind == "credit_note" and i.credited_invoice_id not in void
        ]
        return invoices, credits

    @property
    def delivered_share(self) -> Decimal:
        """Share of the ordered quantity delivered, 0 to 1, across all lines."""
        lines = list(self.lines.all())
        ordered = sum((line.quantity for line in lines), Decimal("0"))
        if ordered <= 0:
            return Decimal("0")
        delivered = sum(
            (min(line.delivered_quantity, line.quantity) for line in lines), Decimal("0")
        )
        return _share(delivered, ordered)

    @property
    def invoiced_amount(self) -> Decimal:
        """Gross amount on issued invoices, less credit notes."""
        invoices, credits = self._billing()
        return sum((i.gross_total for i in invoices), Decimal("0.00")) - sum(
            (c.gross_total for c in credits), Decimal("0.00")
        )

    @property
    def paid_amount(self) -> Decimal:
        """Money received against this order's issued invoices."""
        invoices, _ = self._billing()
        return sum((i.amount_paid for i in invoices), Decimal("0.00"))

    @property
    def invoiced_share(self) -> Decimal:
        """Share of the order total invoiced (net of credit notes), 0 to 1."""
        return _share(self.invoiced_amount, self.gross_total)

    @property
    def paid_share(self) -> Decimal:
        """Share of the order total that has been paid, 0 to 1."""
        return _share(self.paid_amount, self.gross_total)

    @property
    def progress(self) -> dict[str, int]:
        """Whole percentages for the order page: delivered, invoiced, paid."""
        return {
            "delivered": _percent(self.delivered_share),
            "invoiced": _percent(self.invoiced_share),
            "paid": _percent(self.paid_share),
        }


def _share(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return Decimal("0")
    share = Decimal(part) / Decimal(whole)
    return min(max(share, Decimal("0")), Decimal("1")).quantize(Decimal("0.0001"))


def _percent(share: Decimal) -> int:
    # Rounded down, so an order never shows 100% before it is complete.
    return int((share * 100).to_integral_value(rounding=ROUND_FLOOR))


def _required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required.")
    return reason


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit = models.CharField(max_length=16, default="each")
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    tax_rate = models.DecimalField("tax rate %", max_digits=5, decimal_places=2, default=20)
    delivered_quantity = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    net_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    tax_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["order", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_qty_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_gte_0"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="orderline_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(delivered_quantity__gte=0), name="orderline_delivered_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    def compute_amounts(self) -> None:
        self.net_amount = money.line_net(self.quantity, self.unit_price, self.discount_percent)
        self.tax_amount = money.line_tax(self.net_amount, self.tax_rate)

    @property
    def gross_amount(self) -> Decimal:
        return self.net_amount + self.tax_amount


# Transitions off the standard path, as (from state, to state); None means from anywhere.
# Hold, cancel, rework, reopen after lost and billing reopened after a credit note.
EXCEPTION_STEPS = (
    (None, "on_hold"),
    (None, "cancelled"),
    ("delivered", "in_progress"),
    ("lost", "enquiry"),
    ("invoiced", "delivered"),
)
# Other timeline rows that mark one: a change request, a credit note or a void.
EXCEPTION_DETAIL_KEYS = ("change_request", "credit_note")


def _exception_condition() -> Q:
    steps = Q(pk__in=[])
    for source, target in EXCEPTION_STEPS:
        steps |= Q(to_state=target) if source is None else Q(from_state=source, to_state=target)
    details = Q(pk__in=[])
    for key in EXCEPTION_DETAIL_KEYS:
        details |= Q(details__has_key=key)
    return (Q(kind="transition") & steps) | (~Q(kind="transition") & details)


class TimelineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Timeline events are append-only.")

    def delete(self):
        raise TypeError("Timeline events are append-only.")


class TimelineEvent(models.Model):
    """Append-only history of an order, shown to people: who did what, when and why."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", "Transition"
        COMMUNICATION = "communication", "Communication"
        NOTE = "note", "Note"
        CHANGE = "change", "Change"
        SYSTEM = "system", "System"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    automation = models.CharField(
        max_length=64, blank=True, help_text="The automation that acted, when no person did."
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["order", "created_at"], name="timeline_order_idx"),
            # Time in stage walks each order's transitions in order (LEAD over them).
            models.Index(
                fields=["order", "created_at", "id"],
                name="timeline_transition_idx",
                condition=Q(kind="transition"),
            ),
            # Exception frequency reads only the steps off the standard path (the condition
            # matches orders.metrics.EXCEPTION_EVENTS).
            models.Index(
                fields=["order"],
                name="timeline_exception_idx",
                condition=_exception_condition(),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Timeline events are append-only.")

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return self.automation or "System"


# --- fulfilment: proof of delivery, files, milestones, visits, change requests ------------


def _private_upload_to(instance, filename: str) -> str:
    """A random stored name under the order's folder; the customer's file name is kept only
    as data, never as a path (the suffix is the one the content check found)."""
    from pathlib import PurePath

    from oms.uploads import random_upload_name

    return random_upload_name(f"orders/{instance.order_id}", PurePath(filename).suffix)


class OrderAttachment(models.Model):
    """A file kept with an order: a job photo, a drawn signature or a document. Served only
    through the order's download view, to people who may see the order."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "Photo"
        SIGNATURE = "signature", "Signature"
        DOCUMENT = "document", "Document"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="attachments")
    proof = models.ForeignKey(
        "ProofOfDelivery",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PHOTO)
    file = models.FileField(upload_to=_private_upload_to, max_length=200)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["photo", "signature", "document"]),
                name="attachment_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or self.get_kind_display()


class ProofOfDelivery(models.Model):
    """Who delivered, when, who received or signed, notes, and any signature or photos.
    A rework leaves earlier proofs in place as history; the latest one stands."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="proofs")
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delivered_at = models.DateTimeField(default=timezone.now)
    signer_name = models.CharField("signed or received by", max_length=200)
    notes = models.TextField(blank=True)
    signature = models.ForeignKey(
        OrderAttachment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-delivered_at", "-id"]

    def __str__(self) -> str:
        return f"Proof of delivery for {self.order_id} ({self.signer_name})"


class Milestone(models.Model):
    """A stage of a service order: an amount or a percentage of the order's net total, a
    due date, and a sign-off that can raise a milestone invoice."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="milestones")
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    invoice_on_sign_off = models.BooleanField(default=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["order", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(amount__isnull=False) & Q(percent__isnull=True))
                | (Q(amount__isnull=True) & Q(percent__isnull=False)),
                name="milestone_amount_or_percent",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="milestone_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100),
                name="milestone_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def net_amount(self) -> Decimal:
        """What the milestone is worth, net of tax."""
        if self.amount is not None:
            return self.amount
        return money.to_money(self.order.net_total * self.percent / Decimal("100"))

    @property
    def is_signed_off(self) -> bool:
        return self.signed_off_at is not None


class FieldVisit(models.Model):
    """A scheduled visit by an engineer to carry out a field job."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="visits")
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="field_visits"
    )
    date = models.DateField()
    window_start = models.TimeField()
    window_end = models.TimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "window_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="visit_window_order"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "completed", "cancelled"]),
                name="visit_status_known",
            ),
        ]
        indexes = [models.Index(fields=["date", "engineer"], name="visit_day_engineer_idx")]

    def __str__(self) -> str:
        return f"Visit {self.date} {self.window_start:%H:%M}-{self.window_end:%H:%M}"


class ChangeRequest(models.Model):
    """A change to a confirmed order: lines added or removed, prices or dates changed, with a
    reason. Approved changes update the order; before and after are kept here and on the
    timeline."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_CUSTOMER = "awaiting_customer", "Awaiting customer"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="change_requests")
    reason = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Proposed lines (the whole new set, as set_order_lines takes them) and dates.
    proposed_lines = models.JSONField(default=list, blank=True)
    proposed_agreed_date = models.DateField(null=True, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_name = models.CharField(max_length=200, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "awaiting_customer", "approved", "rejected"]),
                name="changerequest_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Change request #{self.pk} on {self.order_id}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.AWAITING_CUSTOMER)
