from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class CustomerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def delete(self):
        raise ValidationError("Customers are never deleted; archive them instead.")

    def visible_to(self, user):
        from oms.accounts.roles import Role, has_role

        if has_role(user, Role.OPERATIONS, Role.FINANCE):
            return self
        if has_role(user, Role.SALES):
            return self.filter(Q(account_manager=user) | Q(orders__owner=user)).distinct()
        return self.none()


class Customer(models.Model):
    class Segment(models.TextChoices):
        TRADE = "trade", "Trade"
        RETAIL = "retail", "Retail"
        PUBLIC_SECTOR = "public_sector", "Public sector"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField("company name", max_length=200)
    segment = models.CharField(
        "customer type", max_length=32, choices=Segment.choices, default=Segment.TRADE
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    billing_address = models.TextField(blank=True)
    delivery_address = models.TextField(blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    currency = models.CharField(max_length=3, default="GBP")
    tax_number = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    status_emails_opt_out = models.BooleanField("no automatic status emails", default=False)
    external_ref = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.name

    def delete(self, *args, **kwargs):
        raise ValidationError("Customers are never deleted; archive them instead.")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def contact(self, role: str):
        """The first active contact with `role`, falling back to the primary contact."""
        contacts = [c for c in self.contacts.all() if c.archived_at is None]
        for wanted in (role, Contact.Role.PRIMARY):
            for contact in contacts:
                if contact.role == wanted:
                    return contact
        return contacts[0] if contacts else None


class ContactQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def delete(self):
        raise ValidationError("Contacts are never deleted; archive them instead.")


class Contact(models.Model):
    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary"
        BILLING = "billing", "Billing"
        SENIOR = "senior", "Senior / escalation"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PRIMARY)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "role", "name"]
        indexes = [
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["phone"], name="contact_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    def delete(self, *args, **kwargs):
        raise ValidationError("Contacts are never deleted; archive them instead.")
