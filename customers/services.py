"""Customer services: the only way customers are created and changed.

Writes run in one transaction; nothing leaves the database from here.
"""

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Max

from customers.models import Contact, Customer
from oms.accounts.roles import Role

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
