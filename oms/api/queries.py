"""API reads: token look-up and the lists the endpoints serve, each a fixed few queries."""

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from customers.models import Contact, Customer
from invoicing.models import Invoice, Payment
from oms.api.models import ApiToken, hash_secret
from oms.api.services import TOKEN_PREFIX
from orders.models import Order, Product, TimelineEvent
from quotes.models import Quote


def find_active_token(secret: str) -> ApiToken | None:
    """The live token whose digest matches `secret`, with its owner, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    return (
        ApiToken.objects.active()
        .select_related("user")
        .filter(secret_hash=hash_secret(secret))
        .first()
    )


def tokens_for_page(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.visible_to(user).select_related("user", "revoked_by")


def customers_for_api(user) -> QuerySet[Customer]:
    return (
        Customer.objects.visible_to(user)
        .select_related("account_manager")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.order_by("role", "name")))
        .order_by("name", "id")
    )


def products_for_api(*, include_archived: bool = False) -> QuerySet[Product]:
    products = Product.objects.all() if include_archived else Product.objects.active()
    return products.order_by("code")


def orders_for_api(
    user,
    *,
    status: str | None = None,
    customer: int | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[Order]:
    """Orders the user may see, newest change first, with lines for the detail."""
    orders = Order.objects.visible_to(user)
    if status:
        orders = orders.filter(status=status)
    if customer is not None:
        orders = orders.filter(customer_id=customer)
    if updated_since is not None:
        orders = orders.filter(updated_at__gte=updated_since)
    return (
        orders.select_related("customer", "owner", "assignee")
        .prefetch_related("lines")
        .order_by("-updated_at", "-id")
    )


def timeline_for_api(order: Order) -> QuerySet[TimelineEvent]:
    return order.timeline.select_related("actor").order_by("created_at", "id")


def quotes_for_api(user, *, order: str | None = None, status: str | None = None):
    quotes = Quote.objects.visible_to(user).select_related("order")
    if order:
        quotes = quotes.filter(order__number=order)
    if status:
        quotes = quotes.filter(status=status)
    return quotes.order_by("-created_at", "-id")


def invoices_for_api(user, *, order: str | None = None, status: str | None = None):
    invoices = (
        Invoice.objects.visible_to(user)
        .select_related("order", "customer")
        .prefetch_related("lines")
    )
    if order:
        invoices = invoices.filter(order__number=order)
    if status:
        invoices = invoices.filter(status=status)
    return invoices.order_by("-created_at", "-id")


def payments_for_api(user, *, invoice: int | None = None):
    payments = Payment.objects.filter(invoice__in=Invoice.objects.visible_to(user)).select_related(
        "invoice", "invoice__order"
    )
    if invoice is not None:
        payments = payments.filter(invoice_id=invoice)
    return payments.order_by("-date", "-id")
