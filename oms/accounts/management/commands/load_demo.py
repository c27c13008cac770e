"""Demo data for trying the system: one user per role, customers, products, and orders at
every stage of the lifecycle, each moved forward through the services as people would.

Idempotent: every demo order is keyed in its metadata and built in one transaction, so a
second run adds nothing and an interrupted run finishes what it had not done.
"""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from customers.models import Contact, Customer
from invoicing.services import (
    approve_invoice,
    draft_invoice_for_order,
    record_payment,
    send_invoice,
)
from oms.accounts.roles import Role
from orders.models import Order, Product
from orders.services import (
    cancel_order,
    create_enquiry,
    deliver_order,
    hold_order,
    set_order_lines,
    start_work,
)
from quotes.services import accept_quote, create_quote, decline_quote, send_quote

DEMO_PASSWORD = "demo"  # noqa: S105 -- printed by `make run`; refused without DEBUG

USERS = [
    # email, first name, last name, role (None: the administrator)
    ("sales@example.com", "Sam", "Patel", Role.SALES),
    ("operations@example.com", "Olivia", "Reed", Role.OPERATIONS),
    ("finance@example.com", "Femi", "Adeyemi", Role.FINANCE),
    ("manager@example.com", "Maya", "Clarke", Role.MANAGER),
    ("admin@example.com", "Alex", "Admin", None),
]

CUSTOMERS = [
    # name, segment, terms, contacts (name, email, phone, role)
    (
        "Northwind Facilities Ltd",
        Customer.Segment.TRADE,
        30,
        [
            ("Priya Shah", "priya.shah@northwind.example", "0113 496 0101", "primary"),
            ("Accounts Payable", "ap@northwind.example", "0113 496 0102", "billing"),
        ],
    ),
    (
        "Harbour View Hotel",
        Customer.Segment.ENTERPRISE,
        30,
        [("Tom Evans", "tom.evans@harbourview.example", "01632 960 201", "primary")],
    ),
    (
        "Leeds City Council",
        Customer.Segment.PUBLIC_SECTOR,
        45,
        [
            ("Janet Brooks", "janet.brooks@leeds.example", "0113 496 0303", "primary"),
            ("Invoices Team", "invoices@leeds.example", "0113 496 0304", "billing"),
        ],
    ),
    (
        "Greenfield Dental Practice",
        Customer.Segment.RETAIL,
        14,
        [("Dr Amir Khan", "amir@greenfield-dental.example", "01632 960 404", "primary")],
    ),
    (
        "Apex Manufacturing plc",
        Customer.Segment.ENTERPRISE,
        60,
        [
            ("Helen Ward", "helen.ward@apex.example", "01632 960 505", "primary"),
            ("Mark Jones", "mark.jones@apex.example", "01632 960 506", "senior"),
        ],
    ),
]

PRODUCTS = [
    # code, name, kind, unit, price
    ("LAB-HR", "Engineer labour", Product.Kind.TIME, "hour", "65.00"),
    ("SVC-VISIT", "Planned maintenance visit", Product.Kind.SERVICE, "visit", "180.00"),
    ("SVC-CALLOUT", "Emergency call-out", Product.Kind.SERVICE, "each", "95.00"),
    ("AC-35", "3.5 kW split air conditioning unit", Product.Kind.GOODS, "each", "1250.00"),
    ("FLT-HEPA", "HEPA filter pack", Product.Kind.GOODS, "pack", "42.50"),
    ("DUCT-M", "Galvanised ducting", Product.Kind.GOODS, "metre", "18.75"),
]


class Command(BaseCommand):
    help = "Load demo users, customers, products and orders at every stage (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load even with DEBUG off (demo users all have the password 'demo').",
        )

    def handle(self, *args, allow_production: bool = False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "load_demo creates users whose password is 'demo'; it runs only with DEBUG "
                "on (or --allow-production on a throwaway system)."
            )
        self.users = self._users()
        self.customers = self._customers()
        self.products = self._products()
        created = 0
        for key, build in self._orders().items():
            if Order.objects.filter(metadata__demo=key).exists():
                continue
            with transaction.atomic():
                build(key)
            created += 1
        self.stdout.write(
            f"Demo data ready: {len(self.users)} users, {len(self.customers)} customers, "
            f"{len(self.products)} products, {created} new demo orders."
        )

    # --- reference data -------------------------------------------------------------

    def _users(self) -> dict[str, object]:
        User = get_user_model()
        users = {}
        for email, first, last, role in USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                if role is None:
                    user = User.objects.create_superuser(
                        email, DEMO_PASSWORD, first_name=first, last_name=last
                    )
                else:
                    user = User.objects.create_user(
                        email, DEMO_PASSWORD, first_name=first, last_name=last
                    )
                    user.groups.add(Group.objects.get(name=role.value))
            users[role.value.lower() if role else "admin"] = user
        return users

    def _customers(self) -> list[Customer]:
        customers = []
        for name, segment, terms, contacts in CUSTOMERS:
            customer, made = Customer.objects.get_or_create(
                name=name,
                defaults={
                    "segment": segment,
                    "payment_terms_days": terms,
                    "account_manager": self.users["sales"],
                    "currency": settings.DEFAULT_CURRENCY,
                    "billing_address": f"{name}\nAccounts, 1 Commerce Way\nLeeds LS1 4AP",
                    "delivery_address": f"{name}\nGoods In, 2 Commerce Way\nLeeds LS1 4AQ",
                    "external_ref": "demo",
                },
            )
            if made:
                for contact_name, email, phone, role in contacts:
                    Contact.objects.create(
                        customer=customer, name=contact_name, email=email, phone=phone, role=role
                    )
            customers.append(customer)
        return customers

    def _products(self) -> dict[str, Product]:
        products = {}
        for code, name, kind, unit, price in PRODUCTS:
            products[code], _ = Product.objects.get_or_create(
                code=code,
                defaults={"name": name, "kind": kind, "unit": unit, "unit_price": Decimal(price)},
            )
        return products

    def _lines(self, *items: tuple[str, str]) -> list[dict]:
        lines = []
        for code, quantity in items:
            product = self.products[code]
            lines.append(
                {
                    "product": product,
                    "description": product.name,
                    "quantity": Decimal(quantity),
                    "unit": product.unit,
                    "unit_price": product.unit_price,
                    "tax_rate": product.tax_rate,
                }
            )
        return lines

    # --- orders, one per lifecycle stage (and a few more) ------------------------------

    def _orders(self) -> dict[str, Callable[[str], None]]:
        northwind, harbour, council, dental, apex = self.customers
        return {
            "enquiry-survey": lambda key: self._enquiry(
                key, northwind, "Office air conditioning survey", ("LAB-HR", "3")
            ),
            "enquiry-ventilation": lambda key: self._enquiry(
                key, dental, "Surgery ventilation upgrade"
            ),
            "quoted-service": lambda key: self._quoted(
                key, harbour, "Annual service contract, 12 rooms", ("SVC-VISIT", "12")
            ),
            "quoted-ducting": lambda key: self._quoted(
                key, apex, "Workshop extraction ducting", ("DUCT-M", "40"), ("LAB-HR", "16")
            ),
            "confirmed-library": lambda key: self._confirmed(
                key,
                council,
                "Library air conditioning replacement",
                ("AC-35", "2"),
                ("LAB-HR", "12"),
            ),
            "confirmed-filters": lambda key: self._confirmed(
                key,
                northwind,
                "Filter replacement, all floors",
                ("FLT-HEPA", "24"),
                ("LAB-HR", "6"),
            ),
            "in-progress-office": lambda key: self._in_progress(
                key, apex, "Install four units, production office", ("AC-35", "4"), ("LAB-HR", "24")
            ),
            "on-hold-kitchen": lambda key: self._on_hold(
                key, harbour, "Kitchen extraction repair", ("DUCT-M", "6"), ("LAB-HR", "5")
            ),
            "delivered-callout": lambda key: self._delivered(
                key,
                dental,
                "Emergency call-out: compressor fault",
                ("SVC-CALLOUT", "1"),
                ("LAB-HR", "2"),
            ),
            "invoiced-maintenance": lambda key: self._invoiced(
                key, council, "Quarterly maintenance visit", ("SVC-VISIT", "3")
            ),
            "paid-server-room": lambda key: self._paid(
                key, northwind, "Server room cooling unit", ("AC-35", "1"), ("LAB-HR", "8")
            ),
            "lost-purifiers": lambda key: self._lost(
                key, dental, "Waiting room air purifiers", ("FLT-HEPA", "4"), ("LAB-HR", "2")
            ),
            "cancelled-heaters": lambda key: self._cancelled(
                key, apex, "Warehouse heater installation", ("LAB-HR", "10")
            ),
        }

    def _enquiry(self, key: str, customer: Customer, title: str, *items) -> Order:
        sales = self.users["sales"]
        order = create_enquiry(
            customer=customer,
            title=title,
            by=sales,
            source=Order.Source.PHONE,
            requested_date=timezone.localdate() + timedelta(days=21),
            specification=f"{title}. Site contact: {customer.contact('primary')}.",
            metadata={"demo": key},
        )
        if items:
            order = set_order_lines(order, self._lines(*items), by=sales)
        return order

    def _quoted(self, key: str, customer: Customer, title: str, *items):
        sales = self.users["sales"]
        order = self._enquiry(key, customer, title, *items)
        quote = create_quote(order, by=sales, terms="Payment within the agreed terms.")
        return send_quote(quote, by=sales)

    def _confirmed(self, key: str, customer: Customer, title: str, *items) -> Order:
        quote = self._quoted(key, customer, title, *items)
        contact = customer.contact("primary")
        accept_quote(quote, by=self.users["sales"], name=str(contact.name), po=f"PO-{quote.pk:05d}")
        return Order.objects.get(pk=quote.order_id)

    def _in_progress(self, key: str, customer: Customer, title: str, *items) -> Order:
        order = self._confirmed(key, customer, title, *items)
        return start_work(order, by=self.users["operations"])

    def _on_hold(self, key: str, customer: Customer, title: str, *items) -> Order:
        order = self._in_progress(key, customer, title, *items)
        return hold_order(
            order,
            by=self.users["operations"],
            reason="Waiting for a replacement fan motor from the supplier.",
            resume_date=timezone.localdate() + timedelta(days=7),
        )

    def _delivered(self, key: str, customer: Customer, title: str, *items) -> Order:
        order = self._in_progress(key, customer, title, *items)
        order = deliver_order(
            order,
            by=self.users["operations"],
            proof="Job sheet signed on site.",
            received_by=str(customer.contact("primary").name),
        )
        draft_invoice_for_order(order, by=self.users["finance"])
        return order

    def _issued_invoice(self, key: str, customer: Customer, title: str, *items):
        order = self._delivered(key, customer, title, *items)
        finance = self.users["finance"]
        invoice = order.invoices.get(status="draft")
        invoice = approve_invoice(invoice, by=finance)
        return send_invoice(invoice, by=finance)

    def _invoiced(self, key: str, customer: Customer, title: str, *items) -> None:
        self._issued_invoice(key, customer, title, *items)

    def _paid(self, key: str, customer: Customer, title: str, *items) -> None:
        invoice = self._issued_invoice(key, customer, title, *items)
        record_payment(
            invoice,
            by=self.users["finance"],
            amount=invoice.gross_total,
            reference=f"BACS {invoice.number}",
        )

    def _lost(self, key: str, customer: Customer, title: str, *items) -> None:
        quote = self._quoted(key, customer, title, *items)
        decline_quote(quote, by=self.users["sales"], reason="Went with a cheaper supplier.")

    def _cancelled(self, key: str, customer: Customer, title: str, *items) -> None:
        order = self._confirmed(key, customer, title, *items)
        cancel_order(
            order,
            by=self.users["manager"],
            reason="Customer's warehouse project postponed indefinitely.",
        )
