"""Turning a sheet into a plan: every row checked, matched to what the OMS already holds,
and sorted into creates, updates and refusals, before anything is written.

A plan only reads. The preview shows it; running the import rebuilds it (the data may
have moved on) and hands it to the writers in services.py. Rows match on a reference or
natural key, so a file imported twice updates instead of duplicating:
customers on external reference, else name and contact email; products on code; orders on
the OMS order number, else the spreadsheet's own order reference.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils import timezone

from customers.models import Contact, Customer
from oms import money
from oms.accounts.roles import Role, has_role
from oms.imports import fields as parse
from oms.imports.files import Table
from oms.imports.models import ImportKind
from orders.models import Order, OrderLine, Product

PREVIEW_ROWS = 20
LOOKUP_CHUNK = 5000


@dataclass
class RowError:
    row: int
    message: str


@dataclass
class PreviewRow:
    row: int
    action: str  # create, update, unchanged
    cells: list[str]


@dataclass
class Plan:
    """What running the import would do. `units` are the kind's write units, each
    covering one or more rows (a customer and its contacts, an order and its lines)."""

    kind: str
    total_rows: int
    columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    units: list[Any] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({error.row for error in self.errors})

    @property
    def valid_rows(self) -> int:
        return self.total_rows - self.error_rows

    def count(self, action: str) -> int:
        return sum(1 for unit in self.units if unit.action == action)


class Row:
    """One sheet row's mapped cells, read field by field, collecting every problem."""

    def __init__(self, number: int, values: dict[str, str], labels: dict[str, str]):
        self.number = number
        self.values = values
        self.labels = labels
        self.errors: list[str] = []

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def get(self, name: str, parser: Callable | None = None, *args, default=None, **kwargs):
        raw = self.values.get(name, "")
        label = self.labels.get(name, name)
        try:
            raw = parse.literal(raw, label)
        except ValidationError as exc:
            self.errors.append(exc.messages[0])
            return default
        if raw == "":
            return default
        if parser is None:
            return raw
        try:
            return parser(raw, label, *args, **kwargs)
        except ValidationError as exc:
            self.errors.append(exc.messages[0])
            return default

    def require(self, name: str, parser: Callable | None = None, *args, **kwargs):
        if not self.values.get(name):
            self.errors.append(f"{self.labels.get(name, name)} is required.")
            return None
        return self.get(name, parser, *args, **kwargs)

    def error(self, message: str) -> None:
        self.errors.append(message)


def build_plan(kind: str, table: Table, mapping: dict, *, by) -> Plan:
    """Check every row of `table` under `mapping` and plan what importing it would do."""
    columns = [f for f in parse.fields_for(kind) if f.name in mapping]
    labels = {f.name: f.label for f in columns}
    index = {f.name: table.headers.index(mapping[f.name]) for f in columns}
    rows = [
        Row(
            number,
            {name: cells[i] if i < len(cells) else "" for name, i in index.items()},
            labels,
        )
        for number, cells in table.rows
    ]
    plan = Plan(kind=kind, total_rows=len(rows), columns=[f.label for f in columns])
    PLANNERS[kind](plan, rows, by)
    plan.errors.sort(key=lambda error: error.row)
    return plan


def _chunks(items: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _preview(plan: Plan, row: Row, action: str) -> None:
    if len(plan.preview) < PREVIEW_ROWS:
        cells = [row.values.get(name, "") for name in _column_names(plan)]
        plan.preview.append(PreviewRow(row=row.number, action=action, cells=cells))


def _column_names(plan: Plan) -> list[str]:
    by_label = {f.label: f.name for f in parse.fields_for(plan.kind)}
    return [by_label[label] for label in plan.columns]


def _users_by_email(emails: set[str]) -> dict[str, Any]:
    users = (
        get_user_model()
        .objects.annotate(email_key=Lower("email"))
        .filter(email_key__in=emails, is_active=True)
    )
    return {user.email_key: user for user in users}


# --- products ------------------------------------------------------------------------------


@dataclass
class ProductUnit:
    rows: list[int]
    product: Product
    action: str
    changed: list[str] = field(default_factory=list)


def _plan_products(plan: Plan, rows: list[Row], by) -> None:
    first_row: dict[str, int] = {}
    parsed = []
    for row in rows:
        values = {
            "code": row.require("code", parse.text, 32),
            "name": row.require("name", parse.text, 200),
            "unit_price": row.require("unit_price", parse.decimal, places=2, minimum=0, digits=12),
        }
        if row.has("kind"):
            values["kind"] = row.get("kind", parse.choice, Product.Kind.choices)
        if row.has("unit"):
            values["unit"] = row.get("unit", parse.text, 16)
        if row.has("tax_rate"):
            values["tax_rate"] = row.get(
                "tax_rate", parse.decimal, places=2, minimum=0, maximum=100, digits=5
            )
        if row.has("active"):
            values["active"] = row.get("active", parse.yes_no)
        code = values["code"]
        if code and code in first_row:
            row.error(f"Product code {code} appears again (first on row {first_row[code]}).")
        if row.errors:
            plan.errors.append(RowError(row.number, " ".join(row.errors)))
            continue
        first_row[code] = row.number
        parsed.append((row, values))

    existing: dict[str, Product] = {}
    for codes in _chunks([values["code"] for _, values in parsed]):
        existing.update({p.code: p for p in Product.objects.filter(code__in=codes)})
    now = timezone.now()
    for row, values in parsed:
        product = existing.get(values["code"])
        if "active" in values:
            values["archived_at"] = None if values["active"] else now
        if product is None:
            unit = ProductUnit([row.number], Product(**values), "create")
        else:
            changed = [
                name
                for name, value in values.items()
                if name != "archived_at" and getattr(product, name) != value
            ]
            if "active" in changed:
                changed.append("archived_at")
            for name in changed:
                setattr(product, name, values[name])
            unit = ProductUnit([row.number], product, "update" if changed else "unchanged", changed)
        plan.units.append(unit)
        _preview(plan, row, unit.action)


# --- customers and contacts -------------------------------------------------------------------

CUSTOMER_VALUES = (
    "segment",
    "billing_address",
    "delivery_address",
    "payment_terms_days",
    "currency",
    "tax_number",
    "notes",
    "account_manager_id",
)


@dataclass
class ContactUnit:
    contact: Contact
    action: str
    changed: list[str] = field(default_factory=list)


@dataclass
class CustomerUnit:
    rows: list[int]
    customer: Customer
    action: str
    changed: list[str] = field(default_factory=list)
    contacts: list[ContactUnit] = field(default_factory=list)


def _read_customer_row(row: Row, managers: dict) -> dict:
    values: dict[str, Any] = {
        "external_ref": row.get("external_ref", parse.text, 64, default=""),
        "name": row.require("name", parse.text, 200),
    }
    readers = {
        "segment": (parse.choice, (Customer.Segment.choices,), {}),
        "billing_address": (None, (), {}),
        "delivery_address": (None, (), {}),
        "payment_terms_days": (parse.whole_number, (), {"minimum": 0, "maximum": 365}),
        "currency": (None, (), {}),
        "tax_number": (parse.text, (64,), {}),
        "notes": (None, (), {}),
    }
    for name, (parser, args, kwargs) in readers.items():
        if row.has(name):
            values[name] = row.get(name, parser, *args, **kwargs)
    if values.get("currency"):
        values["currency"] = values["currency"].upper()
        if not values["currency"].isalpha() or len(values["currency"]) != 3:
            row.error(f"Currency '{values['currency']}' is not a three-letter code like GBP.")
    if row.has("account_manager"):
        address = row.get("account_manager", parse.email)
        if address and address not in managers:
            row.error(f"Account manager {address} is not a user of the OMS.")
        manager = managers.get(address)
        values["account_manager_id"] = manager.pk if manager else None
    contact = {
        "name": row.get("contact_name", parse.text, 200, default=""),
        "email": row.get("contact_email", parse.email, default=""),
        "phone": row.get("contact_phone", parse.text, 40, default=""),
    }
    if row.has("contact_role"):
        contact["role"] = row.get("contact_role", parse.choice, Contact.Role.choices)
    values["contact"] = contact if (contact["name"] or contact["email"]) else None
    if not values["contact"] and contact["phone"]:
        row.error("A contact phone number needs a contact name or email.")
    return values


def _customer_key(values: dict) -> tuple:
    if values["external_ref"]:
        return ("ref", values["external_ref"])
    return ("name", values["name"].casefold())


def _plan_customers(plan: Plan, rows: list[Row], by) -> None:
    wanted = {key.lower() for key in _keys(rows, "account_manager")}
    managers = _users_by_email(wanted) if wanted else {}
    groups: dict[tuple, list[tuple[Row, dict]]] = {}
    for row in rows:
        values = _read_customer_row(row, managers)
        if row.errors:
            plan.errors.append(RowError(row.number, " ".join(row.errors)))
            continue
        groups.setdefault(_customer_key(values), []).append((row, values))

    by_ref, by_name = _existing_customers(groups)
    for key, members in groups.items():
        first_row, values = members[0]
        emails = {v["contact"]["email"] for _, v in members if v["contact"]} - {""}
        customer = _match_customer(key, emails, by_ref, by_name)
        unit = _customer_unit(customer, values, [row.number for row, _ in members])
        if unit.action == "create" and "account_manager_id" not in values:
            # A salesperson's new customers are theirs, so they can see them; a manager's
            # import leaves them unassigned unless the file names someone.
            unit.customer.account_manager_id = None if has_role(by, Role.MANAGER) else by.pk
        for _row, row_values in members:
            if row_values["contact"]:
                _plan_contact(unit, row_values["contact"])
        if unit.action == "unchanged" and any(c.action != "unchanged" for c in unit.contacts):
            unit.action = "update"
        plan.units.append(unit)
        _preview(plan, first_row, unit.action)


def _existing_customers(groups: dict) -> tuple[dict, dict]:
    refs = [key[1] for key in groups if key[0] == "ref"]
    names = list({key[1] for key in groups if key[0] == "name"})
    found: dict[int, Customer] = {}
    for chunk in _chunks(refs):
        found.update({c.pk: c for c in Customer.objects.filter(external_ref__in=chunk)})
    for chunk in _chunks(names):
        found.update(
            {
                c.pk: c
                for c in Customer.objects.annotate(name_key=Lower("name")).filter(
                    name_key__in=[name.lower() for name in chunk]
                )
            }
        )
    contacts: dict[int, list[Contact]] = {}
    for chunk in _chunks(list(found)):
        for contact in Contact.objects.filter(customer_id__in=chunk).order_by("pk"):
            contacts.setdefault(contact.customer_id, []).append(contact)
    by_ref: dict[str, Customer] = {}
    by_name: dict[str, list[Customer]] = {}
    for customer in sorted(found.values(), key=lambda c: c.pk):
        customer.import_contacts = contacts.get(customer.pk, [])
        if customer.external_ref:
            by_ref.setdefault(customer.external_ref, customer)
        by_name.setdefault(customer.name.casefold(), []).append(customer)
    return by_ref, by_name


def _match_customer(key: tuple, emails: set[str], by_ref: dict, by_name: dict) -> Customer | None:
    """By external reference; else by name and a contact's email (rows of one company
    without a reference are one customer, whatever contacts they list); else by name alone
    when the rows give no email and exactly one customer has that name."""
    if key[0] == "ref":
        return by_ref.get(key[1])
    candidates = by_name.get(key[1], [])
    if emails:
        for customer in candidates:
            if any(c.email in emails for c in customer.import_contacts):
                return customer
        return None
    return candidates[0] if len(candidates) == 1 else None


def _customer_unit(customer: Customer | None, values: dict, rows: list[int]) -> CustomerUnit:
    fields = {name: values[name] for name in CUSTOMER_VALUES if name in values}
    if customer is None:
        customer = Customer(name=values["name"], external_ref=values["external_ref"], **fields)
        if not customer.delivery_address:
            customer.delivery_address = customer.billing_address
        customer.import_contacts = []
        return CustomerUnit(rows, customer, "create")
    fields["name"] = values["name"]
    if values["external_ref"]:
        fields["external_ref"] = values["external_ref"]
    changed = [name for name, value in fields.items() if getattr(customer, name) != value]
    for name in changed:
        setattr(customer, name, fields[name])
    return CustomerUnit(rows, customer, "update" if changed else "unchanged", changed)


def _plan_contact(unit: CustomerUnit, data: dict) -> None:
    """Contacts match on email within their customer, else on name; blank cells keep what
    the OMS already has."""
    known = unit.customer.import_contacts + [c.contact for c in unit.contacts]
    match = None
    for contact in known:
        if data["email"]:
            same = contact.email == data["email"]
        else:
            same = bool(data["name"]) and contact.name.casefold() == data["name"].casefold()
        if same:
            match = contact
            break
    wanted = {name: value for name, value in data.items() if value}
    wanted.setdefault("name", data["email"] or unit.customer.name)
    if match is None:
        unit.contacts.append(ContactUnit(Contact(**wanted), "create"))
        return
    if any(c.contact is match for c in unit.contacts):
        return  # the same contact twice in one file: the first row stands
    changed = [name for name, value in wanted.items() if getattr(match, name) != value]
    for name in changed:
        setattr(match, name, wanted[name])
    unit.contacts.append(ContactUnit(match, "update" if changed else "unchanged", changed))


# --- open orders with lines ---------------------------------------------------------------------

IMPORTABLE_STAGES = (
    Order.Status.ENQUIRY,
    Order.Status.QUOTED,
    Order.Status.CONFIRMED,
    Order.Status.IN_PROGRESS,
    Order.Status.ON_HOLD,
    Order.Status.DELIVERED,
)
ORDER_DETAILS = (
    "title",
    "kind",
    "po_reference",
    "requested_date",
    "agreed_date",
    "delivery_address",
    "special_instructions",
)


@dataclass
class OrderUnit:
    rows: list[int]
    order: Order
    action: str
    stage: str
    ref: str
    changed: dict[str, Any] = field(default_factory=dict)
    lines: list[OrderLine] = field(default_factory=list)


def _stage(row: Row) -> str | None:
    value = row.require("stage")
    if value is None:
        return None
    try:
        stage = parse.choice(value, "Stage", Order.Status.choices)
    except ValidationError:
        allowed = ", ".join(Order.Status(s).label.lower() for s in IMPORTABLE_STAGES)
        row.error(f"Stage '{value}' is not known; use one of: {allowed}.")
        return None
    if stage not in IMPORTABLE_STAGES:
        row.error(
            f"Stage '{value}': only open orders are imported (enquiry to delivered); "
            "invoiced, paid, lost and cancelled orders stay in the old records."
        )
        return None
    return stage


def _read_order_row(row: Row, lookups: dict) -> dict:
    values: dict[str, Any] = {
        "ref": row.get("order_ref", parse.text, 64, default=""),
        "number": (row.get("number", parse.text, 32, default="") or "").upper(),
        "title": row.require("title", parse.text, 200),
        "stage": _stage(row),
        "po_reference": row.get("po_reference", parse.text, 64, default=""),
        "requested_date": row.get("requested_date", parse.day),
        "agreed_date": row.get("agreed_date", parse.day),
        "delivery_address": row.get("delivery_address", default=""),
        "special_instructions": row.get("special_instructions", default=""),
        "hold_reason": row.get("hold_reason", default=""),
    }
    if row.has("kind"):
        values["kind"] = row.get("kind", parse.choice, Order.Kind.choices)
    if not values["ref"] and not values["number"]:
        row.error("Give each order a reference (or its OMS order number).")
    customer_key = row.require("customer")
    values["customer"] = _find_customer(customer_key, lookups) if customer_key else None
    if customer_key and values["customer"] is None:
        row.error(f"Unknown customer '{customer_key}': import the customer first.")
    values["owner"] = None
    if row.has("owner"):
        address = row.get("owner", parse.email)
        values["owner"] = lookups["users"].get(address)
        if address and values["owner"] is None:
            row.error(f"Owner {address} is not a user of the OMS.")
    values["line"] = _read_line(row, lookups) if _has_line(row) else None
    return values


def _find_customer(key: str, lookups: dict) -> Customer | None:
    if key in lookups["customer_refs"]:
        return lookups["customer_refs"][key]
    matches = lookups["customer_names"].get(key.casefold(), [])
    return matches[0] if len(matches) == 1 else None


def _has_line(row: Row) -> bool:
    return any(row.has(name) for name in ("product_code", "description", "quantity"))


def _read_line(row: Row, lookups: dict) -> dict | None:
    product = None
    code = row.get("product_code")
    if code:
        product = lookups["products"].get(code)
        if product is None:
            row.error(f"Unknown product code '{code}'.")
            return None
        elif not product.active:
            row.error(f"Product {code} is archived and cannot be put on an order.")
    description = row.get("description", parse.text, 500, default="") or (
        product.name if product else ""
    )
    if not description:
        row.error("A line needs a description or a product code.")
    quantity = row.require("quantity", parse.decimal, places=3, minimum=Decimal("0.001"))
    price = row.get("unit_price", parse.decimal, places=2, minimum=0, digits=12)
    if price is None and product is not None:
        price = product.unit_price
    if price is None and not row.has("unit_price"):
        row.error("A line needs a unit price (or a product code that has one).")
    discount = row.get(
        "discount_percent", parse.decimal, places=2, minimum=0, maximum=100, digits=5
    )
    tax_rate = row.get("tax_rate", parse.decimal, places=2, minimum=0, maximum=100, digits=5)
    if tax_rate is None:
        tax_rate = product.tax_rate if product else Decimal("20.00")
    return {
        "product": product,
        "description": description,
        "quantity": quantity,
        "unit": product.unit if product else "each",
        "unit_price": price,
        "discount_percent": discount or Decimal("0.00"),
        "tax_rate": tax_rate,
    }


def _keys(rows: list[Row], name: str) -> set[str]:
    """The distinct values of one column as the rows will read them (an export's guarding
    apostrophe taken off), for looking them all up at once."""
    keys = set()
    for row in rows:
        value = row.values.get(name, "")
        keys.add(value[1:] if value.startswith(parse.QUOTED_PREFIXES) else value)
    return keys - {""}


def _order_lookups(rows: list[Row]) -> dict:
    customer_keys = _keys(rows, "customer")
    codes = list(_keys(rows, "product_code"))
    owners = {key.lower() for key in _keys(rows, "owner")}
    numbers = [key.upper() for key in _keys(rows, "number")]
    refs = list(_keys(rows, "order_ref"))
    customers = list(Customer.objects.filter(external_ref__in=customer_keys).order_by("pk"))
    customers += Customer.objects.annotate(name_key=Lower("name")).filter(
        name_key__in=[key.lower() for key in customer_keys]
    )
    names: dict[str, list[Customer]] = {}
    for customer in {c.pk: c for c in customers}.values():
        names.setdefault(customer.name.casefold(), []).append(customer)
    orders = list(Order.objects.filter(number__in=numbers)) if numbers else []
    if refs:
        orders += Order.objects.filter(metadata__import_ref__in=refs)
    return {
        "customer_refs": {c.external_ref: c for c in reversed(customers) if c.external_ref},
        "customer_names": names,
        "products": {p.code: p for p in Product.objects.filter(code__in=codes)},
        "users": _users_by_email(owners) if owners else {},
        "orders_by_number": {o.number: o for o in orders},
        "orders_by_ref": {o.metadata.get("import_ref"): o for o in orders},
    }


def _plan_orders(plan: Plan, rows: list[Row], by) -> None:
    lookups = _order_lookups(rows)
    groups: dict[str, list[tuple[Row, dict]]] = {}
    for row in rows:
        values = _read_order_row(row, lookups)
        key = values["number"] or values["ref"]
        groups.setdefault(key or f"row-{row.number}", []).append((row, values))
    for key, members in groups.items():
        bad = [row for row, _ in members if row.errors]
        if bad:
            for row, _ in members:
                reason = " ".join(row.errors) or (
                    f"Not imported with the rest of order {key}: row {bad[0].number} is invalid."
                )
                plan.errors.append(RowError(row.number, reason))
            continue
        unit = _order_unit(members, lookups, by)
        if isinstance(unit, RowError):
            plan.errors.extend(RowError(row.number, unit.message) for row, _ in members)
            continue
        plan.units.append(unit)
        _preview(plan, members[0][0], unit.action)


def _order_unit(members: list[tuple[Row, dict]], lookups: dict, by) -> "OrderUnit | RowError":
    first, values = members[0]
    rows = [row.number for row, _ in members]
    existing = lookups["orders_by_number"].get(values["number"]) if values["number"] else None
    if values["number"] and existing is None:
        return RowError(
            first.number,
            f"Order {values['number']} is not in the OMS; leave the OMS order number blank "
            "to create it (it is given a new number).",
        )
    existing = existing or lookups["orders_by_ref"].get(values["ref"])
    if existing is not None:
        return _existing_order_unit(existing, values, rows)
    lines = [v["line"] for _, v in members if v["line"]]
    if values["stage"] in (Order.Status.IN_PROGRESS, Order.Status.DELIVERED) and not lines:
        return RowError(first.number, "An order in progress or delivered needs its lines.")
    order = _new_order(values, by)
    built = []
    for position, data in enumerate(lines):
        line = OrderLine(order=order, position=position, **data)
        line.compute_amounts()
        if values["stage"] == Order.Status.DELIVERED:
            line.delivered_quantity = line.quantity
        built.append(line)
    order.net_total = sum((line.net_amount for line in built), money.ZERO)
    order.tax_total = sum((line.tax_amount for line in built), money.ZERO)
    order.gross_total = order.net_total + order.tax_total
    if order.gross_total >= MAX_AMOUNT:
        return RowError(first.number, f"The order's total {order.gross_total} is too large.")
    return OrderUnit(rows, order, "create", values["stage"], values["ref"], lines=built)


# Order and line amounts are stored with 14 digits, two of them after the point.
MAX_AMOUNT = Decimal("1e12")

# The stages an order passes on the way to each importable stage; each gets its timestamp.
STAGE_PATH = {
    "enquiry": (),
    "quoted": ("quoted",),
    "confirmed": ("confirmed",),
    "in_progress": ("confirmed", "in_progress"),
    "on_hold": ("confirmed", "on_hold"),
    "delivered": ("confirmed", "in_progress", "delivered"),
}


def _new_order(values: dict, by) -> Order:
    """An unsaved order standing at its stated stage. The state is given once, at
    construction (the field is protected: it never moves except by a transition)."""
    now = timezone.now()
    customer = values["customer"]
    fields = {name: values[name] for name in ORDER_DETAILS if name in values}
    fields["delivery_address"] = fields.get("delivery_address") or customer.delivery_address
    order = Order(
        customer=customer,
        owner=values["owner"] or by,
        currency=customer.currency,
        status=values["stage"],
        metadata={"import_ref": values["ref"]} if values["ref"] else {},
        created_at=now,
        enquiry_at=now,
        status_changed_at=now,
        **fields,
    )
    for stage in STAGE_PATH[values["stage"]]:
        setattr(order, f"{stage}_at", now)
    if values["stage"] == Order.Status.ON_HOLD:
        order.held_from = Order.Status.CONFIRMED
        order.hold_reason = values["hold_reason"] or "On hold when imported."
    return order


def _existing_order_unit(order: Order, values: dict, rows: list[int]) -> "OrderUnit | RowError":
    """An order already in the OMS: its details follow the file, its stage and lines stay
    with the lifecycle (an import never moves an order through it)."""
    if order.status != values["stage"]:
        return RowError(
            rows[0],
            f"Order {order.number} is already {order.get_status_display().lower()} in the "
            f"OMS; an import sets the stage only of the orders it creates.",
        )
    changed = {
        name: values[name]
        for name in ORDER_DETAILS
        if name in values
        and values[name] not in ("", None)
        and getattr(order, name) != values[name]
    }
    if changed and (order.is_on_hold or order.is_closed):
        return RowError(
            rows[0],
            f"Order {order.number} is {order.get_status_display().lower()}; its details "
            "cannot change now.",
        )
    return OrderUnit(
        rows, order, "update" if changed else "unchanged", order.status, values["ref"], changed
    )


PLANNERS: dict[str, Callable[[Plan, list[Row], Any], None]] = {
    ImportKind.PRODUCTS: _plan_products,
    ImportKind.CUSTOMERS: _plan_customers,
    ImportKind.ORDERS: _plan_orders,
}
