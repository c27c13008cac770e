"""Customer look-ups: type-ahead search and duplicate detection."""

from django.db.models import Prefetch, Q, QuerySet

from customers.models import Contact, Customer


def search_customers(user, q: str, *, limit: int = 10) -> QuerySet[Customer]:
    """Active customers whose name, or a contact's name, email or phone, contains `q`.

    Every salesperson may find any customer to take an enquiry for; what they may then
    see of its orders is decided by Order.objects.visible_to.
    """
    q = q.strip()
    if len(q) < 2:
        return Customer.objects.none()
    matching = Contact.objects.filter(
        Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q),
        archived_at__isnull=True,
    ).values("customer_id")
    return (
        Customer.objects.active()
        .filter(Q(name__icontains=q) | Q(pk__in=matching))
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.filter(archived_at__isnull=True))
        )
        .order_by("name")[:limit]
    )


def duplicate_customers(*, name: str = "", email: str = "") -> list[Customer]:
    """Existing customers with the same company name or a contact with the same email."""
    condition = Q()
    if name.strip():
        condition |= Q(name__iexact=name.strip())
    if email.strip():
        condition |= Q(contacts__email__iexact=email.strip())
    if not condition:
        return []
    return list(Customer.objects.active().filter(condition).distinct().order_by("name")[:5])


def customer_list(user, *, q: str = "", segment: str = "", archived: bool = False) -> QuerySet:
    """Customers `user` may see for the list page (and its export), with account manager
    and active contacts loaded: name, external reference or a contact's details match `q`."""
    customers = Customer.objects.visible_to(user).filter(archived_at__isnull=not archived)
    q = q.strip()
    if q:
        matching = Contact.objects.filter(
            Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q)
        ).values("customer_id")
        customers = customers.filter(
            Q(name__icontains=q) | Q(external_ref__iexact=q) | Q(pk__in=matching)
        )
    if segment:
        customers = customers.filter(segment=segment)
    return (
        customers.select_related("account_manager")
        .prefetch_related(
            Prefetch(
                "contacts",
                queryset=Contact.objects.filter(archived_at__isnull=True).order_by("role", "name"),
            )
        )
        .order_by("name", "pk")
    )
