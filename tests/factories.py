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
