"""factory_boy factories, one module. Orders move forward through services, not factories."""

from decimal import Decimal

import factory

from customers.models import Contact, Customer
from orders.models import Product


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    segment = Customer.Segment.TRADE
    billing_address = "1 Billing Road, Leeds, LS1 1AA"
    delivery_address = "2 Delivery Lane, Leeds, LS2 2BB"
    payment_terms_days = 30
    currency = "GBP"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    phone = factory.Sequence(lambda n: f"0113 496 {n:04d}")
    role = Contact.Role.PRIMARY


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    kind = Product.Kind.GOODS
    unit = "each"
    unit_price = Decimal("100.00")
    tax_rate = Decimal("20.00")


# --- orders and quotes -------------------------------------------------------------------
# OrderFactory builds a row in any state, for transition-matrix tests only; everything else
# moves orders forward through the services (place_order, advance_order) so the timeline
# and outbox stay consistent.


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Order"

    number = factory.Sequence(lambda n: f"ORD-TEST-{n:05d}")
    customer = factory.SubFactory(CustomerFactory)
    owner = None
    title = factory.Sequence(lambda n: f"Order {n}")


def line_data(**overrides) -> dict:
    """One order line as the services take it."""
    data = {
        "description": "Widget",
        "quantity": Decimal("2"),
        "unit_price": Decimal("50.00"),
        "tax_rate": Decimal("20.00"),
    }
    data.update(overrides)
    return data


def place_order(by, *, customer=None, lines=None, **fields):
    """An enquiry with lines, captured by `by` (a salesperson or manager)."""
    from orders.services import create_enquiry, set_order_lines

    order = create_enquiry(
        customer=customer or CustomerFactory(),
        title=fields.pop("title", "Fit-out"),
        by=by,
        **fields,
    )
    return set_order_lines(order, lines if lines is not None else [line_data()], by=by)


def send_new_quote(order, by, **options):
    """Draft and send the next quote version for `order`."""
    from quotes.services import create_quote, send_quote

    return send_quote(create_quote(order, by=by, **options), by=by)


# The service path from enquiry to each state reachable without invoices.
ADVANCE_PATHS = {
    "enquiry": [],
    "quoted": ["send_quote"],
    "confirmed": ["confirm"],
    "in_progress": ["confirm", "start_work"],
    "on_hold": ["confirm", "start_work", "hold"],
    "delivered": ["confirm", "start_work", "deliver"],
    "lost": ["lose"],
    "cancelled": ["confirm", "cancel"],
}


def advance_order(order, state: str, *, by):
    """Move an enquiry to `state` through the services; `by` must hold every role needed
    (a manager does)."""
    from orders import services

    steps = {
        "send_quote": lambda o: send_new_quote(o, by).order,
        "confirm": lambda o: services.confirm_order(o, by=by),
        "start_work": lambda o: services.start_work(o, by=by),
        "hold": lambda o: services.hold_order(o, by=by, reason="Waiting for parts"),
        "deliver": lambda o: services.deliver_order(o, by=by, received_by="Site manager"),
        "lose": lambda o: services.lose_order(o, by=by, reason="Went elsewhere"),
        "cancel": lambda o: services.cancel_order(o, by=by, reason="Customer withdrew"),
    }
    for step in ADVANCE_PATHS[state]:
        order = steps[step](order)
        order.refresh_from_db()
    return order
