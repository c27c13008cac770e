"""Customer services: the only way customers are created and changed.

Writes run in one transaction; nothing leaves the database from here.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from customers.models import Contact, Customer
from oms.accounts.roles import Role, has_role
from oms.outbox.publish import publish

# Serialises round-robin picks so two enquiries captured at once go to different people.
ROUND_ROBIN_LOCK = 7_300_001


def create_customer(
    *,
    name: str,
    by,
    contact_name: str = "",
    email: str = "",
    phone: str = "",
    segment: str = Customer.Segment.TRADE,
    account_manager=None,
    billing_address: str = "",
    delivery_address: str = "",
) -> Customer:
    """A new customer with its primary contact, usually created while capturing an enquiry.

    Duplicates are a warning for the person, not a rule here: the caller has shown them.
    """
    with transaction.atomic():
        customer = Customer.objects.create(
            name=name.strip(),
            segment=segment,
            account_manager=account_manager,
            billing_address=billing_address,
            delivery_address=delivery_address or billing_address,
        )
        if contact_name or email or phone:
            Contact.objects.create(
                customer=customer,
                name=(contact_name or name).strip(),
                email=email.strip().lower(),
                phone=phone.strip(),
                role=Contact.Role.PRIMARY,
            )
    return customer


def next_salesperson():
    """Round-robin among active salespeople: whoever was given an order least recently.

    Call inside the transaction that creates the order; on PostgreSQL an advisory lock held
    to its end makes concurrent picks queue up, so each sees the previous assignment.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROUND_ROBIN_LOCK])
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.SALES)
        .annotate(last_assigned=Max("owned_orders__created_at"))
        .order_by(F("last_assigned").asc(nulls_first=True), "id")
        .first()
    )


# --- archiving: customers and contacts are never deleted -----------------------------------

# Order states that still need the customer; named as strings so customers does not import
# orders (which sits above it).
OPEN_ORDER_STATES = ("enquiry", "quoted", "confirmed", "in_progress", "on_hold", "delivered")


def _ensure_may_archive(by) -> None:
    if by is not None and not has_role(by, Role.SALES, Role.FINANCE):
        raise PermissionDenied("Your role may not archive customers.")


def archive_customer(customer: Customer, *, by) -> Customer:
    """Retire a customer: hidden from pickers and new enquiries, kept with its history.
    Refused while it has open orders or invoices awaiting payment."""
    _ensure_may_archive(by)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.archived_at is not None:
            return customer
        open_orders = customer.orders.filter(status__in=OPEN_ORDER_STATES).count()
        if open_orders:
            raise ValidationError(
                f"{customer} has {open_orders} open order(s); close them before archiving."
            )
        if customer.invoices.filter(status__in=("approved", "sent", "part_paid")).exists():
            raise ValidationError(f"{customer} has unpaid invoices; settle them first.")
        customer.archived_at = timezone.now()
        customer.save(update_fields=["archived_at"])
        publish("customer.archived", subject=customer, actor=by)
    return customer


def restore_customer(customer: Customer, *, by) -> Customer:
    """Bring an archived customer back."""
    _ensure_may_archive(by)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.archived_at is None:
            return customer
        customer.archived_at = None
        customer.save(update_fields=["archived_at"])
        publish("customer.restored", subject=customer, actor=by)
    return customer


def archive_contact(contact: Contact, *, by) -> Contact:
    """A contact left the customer: kept for history, no longer emailed or offered."""
    if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS, Role.FINANCE):
        raise PermissionDenied("Your role may not change contacts.")
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if contact.archived_at is None:
            contact.archived_at = timezone.now()
            contact.save(update_fields=["archived_at"])
            publish("contact.archived", subject=contact, actor=by)
    return contact
