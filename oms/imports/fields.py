"""What each kind of import reads: its fields, which are required, the headers that
usually mean them, and the cell parsers that turn text into values or a reason."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from oms.imports.models import ImportKind


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""


CUSTOMER_FIELDS = (
    Field("external_ref", "External reference", aliases=("ref", "account", "account no", "id")),
    Field("name", "Company name", required=True, aliases=("company", "customer", "customer name")),
    Field("segment", "Customer type", aliases=("type", "customer type"), help="trade, retail…"),
    Field("billing_address", "Billing address", aliases=("address", "invoice address")),
    Field("delivery_address", "Delivery address", aliases=("ship to", "shipping address")),
    Field("payment_terms_days", "Payment terms (days)", aliases=("terms", "payment terms")),
    Field("currency", "Currency"),
    Field("tax_number", "Tax number", aliases=("vat", "vat number", "vat no")),
    Field("notes", "Notes"),
    Field("account_manager", "Account manager (email)", aliases=("account manager",)),
    Field("contact_name", "Contact name", aliases=("contact",)),
    Field("contact_email", "Contact email", aliases=("email", "e-mail", "email address")),
    Field("contact_phone", "Contact phone", aliases=("phone", "telephone", "tel", "mobile")),
    Field("contact_role", "Contact role", help="primary, billing or senior"),
)

PRODUCT_FIELDS = (
    Field("code", "Product code", required=True, aliases=("sku", "item code", "product")),
    Field("name", "Name", required=True, aliases=("description", "product name", "item")),
    Field("unit_price", "Unit price", required=True, aliases=("price", "rate", "net price")),
    Field("kind", "Kind", aliases=("type",), help="goods, service or time"),
    Field("unit", "Unit", aliases=("uom",)),
    Field("tax_rate", "Tax rate %", aliases=("vat rate", "tax", "vat")),
    Field("active", "Active", help="yes or no"),
)

ORDER_FIELDS = (
    Field(
        "order_ref",
        "Order reference",
        aliases=("reference", "ref", "external ref", "job", "job no"),
        help="Your spreadsheet's own order id; re-imports match on it.",
    ),
    Field("number", "OMS order number", aliases=("order number", "order no")),
    Field(
        "customer",
        "Customer",
        required=True,
        aliases=("customer ref", "customer name", "account"),
        help="The customer's external reference or exact name.",
    ),
    Field("title", "Title", required=True, aliases=("order title", "summary")),
    Field(
        "stage",
        "Stage",
        required=True,
        aliases=("status", "state"),
        help="enquiry, quoted, confirmed, in progress, on hold or delivered",
    ),
    Field("owner", "Owner (email)", aliases=("salesperson", "sales rep")),
    Field("po_reference", "Customer PO", aliases=("po", "po number", "purchase order")),
    Field("kind", "Order type", aliases=("type",)),
    Field("requested_date", "Requested date", aliases=("requested",)),
    Field("agreed_date", "Agreed date", aliases=("due date", "agreed")),
    Field("delivery_address", "Delivery address"),
    Field("special_instructions", "Special instructions", aliases=("instructions",)),
    Field("hold_reason", "Hold reason"),
    Field("product_code", "Product code", aliases=("sku", "item code")),
    Field("description", "Line description", aliases=("line", "item")),
    Field("quantity", "Quantity", aliases=("qty",)),
    Field("unit_price", "Unit price", aliases=("price",)),
    Field("discount_percent", "Discount %", aliases=("discount",)),
    Field("tax_rate", "Tax rate %", aliases=("vat rate", "vat")),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    ImportKind.CUSTOMERS: CUSTOMER_FIELDS,
    ImportKind.PRODUCTS: PRODUCT_FIELDS,
    ImportKind.ORDERS: ORDER_FIELDS,
}


def fields_for(kind: str) -> tuple[Field, ...]:
    return FIELDS[kind]


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


def guess_mapping(kind: str, headers: list[str], remembered: dict | None = None) -> dict:
    """Field name → header: what this person chose last time where those headers still
    exist, else the header that reads like the field's name, label or a usual alias."""
    remembered = remembered or {}
    present = {header for header in headers if header}
    by_key = {_key(header): header for header in reversed(headers) if header}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for field in fields_for(kind):
        if remembered.get(field.name) in present and remembered[field.name] not in taken:
            mapping[field.name] = remembered[field.name]
            taken.add(mapping[field.name])
    for field in fields_for(kind):
        if field.name in mapping:
            continue
        for candidate in (field.name, field.label, *field.aliases):
            header = by_key.get(_key(candidate))
            if header and header not in taken:
                mapping[field.name] = header
                taken.add(header)
                break
    return mapping


def check_mapping(kind: str, headers: list[str], mapping: dict) -> dict:
    """The mapping restricted to real headers; refuses one that leaves a required field
    without a column or uses a column twice."""
    present = set(headers)
    clean = {name: header for name, header in mapping.items() if header}
    unknown = sorted(header for header in clean.values() if header not in present)
    if unknown:
        raise ValidationError(f"The file has no column headed {', '.join(unknown)}.")
    missing = [f.label for f in fields_for(kind) if f.required and f.name not in clean]
    if missing:
        raise ValidationError(
            "Missing required column(s): "
            + ", ".join(missing)
            + ". Add them to the file or match them to a column."
        )
    used: dict[str, str] = {}
    for name, header in clean.items():
        if header in used:
            raise ValidationError(f"The column '{header}' is matched to two fields.")
        used[header] = name
    return clean


# --- cell parsers: text in, value out, or ValidationError with the reason ------------------

FORMULA_PREFIXES = ("=",)
# Our own exports put a quote before = + - @ (tab, return) so a spreadsheet shows text.
QUOTED_PREFIXES = ("'=", "'+", "'-", "'@", "'\t", "'\r")


def literal(text: str, label: str) -> str:
    """The cell as plain text. A formula is refused (never evaluated); an apostrophe our
    export put in front of = + - @ is taken off again."""
    if text.startswith(FORMULA_PREFIXES):
        raise ValidationError(
            f"{label} holds a formula ({text[:40]}); enter the value itself, not a formula."
        )
    if text.startswith(QUOTED_PREFIXES):
        return text[1:]
    return text


def text(value: str, label: str, max_length: int) -> str:
    if len(value) > max_length:
        raise ValidationError(f"{label} is longer than {max_length} characters.")
    return value


def decimal(
    value: str, label: str, *, places: int, minimum=None, maximum=None, digits: int = 12
) -> Decimal:
    cleaned = _plain_number(value.replace("£", "").replace("%", "").strip())
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(f"{label} '{value}' is not a number.") from None
    if not number.is_finite():
        raise ValidationError(f"{label} '{value}' is not a number.")
    if minimum is not None and number < minimum:
        raise ValidationError(f"{label} {value} is below {minimum}.")
    if maximum is not None and number > maximum:
        raise ValidationError(f"{label} {value} is above {maximum}.")
    quantum = Decimal(1).scaleb(-places)
    number = number.quantize(quantum)
    if len(number.as_tuple().digits) > digits:
        raise ValidationError(f"{label} {value} is too large.")
    return number


THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
DECIMAL_COMMA = re.compile(r"^-?\d+,\d{1,2}$")


def _plain_number(text: str) -> str:
    """1,200.50 (thousands separators) and 12,50 (a decimal comma, as European Excel
    writes) both read as written; any other comma leaves the text not a number."""
    if THOUSANDS.match(text):
        return text.replace(",", "")
    if DECIMAL_COMMA.match(text):
        return text.replace(",", ".")
    return text


def whole_number(value: str, label: str, *, minimum: int, maximum: int) -> int:
    try:
        exact = Decimal(_plain_number(value.strip()))
    except InvalidOperation:
        exact = None
    if exact is None or not exact.is_finite() or exact != exact.to_integral_value():
        raise ValidationError(f"{label} '{value}' is not a whole number.")
    number = int(exact)
    if not minimum <= number <= maximum:
        raise ValidationError(f"{label} must be between {minimum} and {maximum}.")
    return number


def email(value: str, label: str) -> str:
    value = value.strip().lower()
    if len(value) > 254:
        raise ValidationError(f"{label} is longer than 254 characters.")
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(f"{label} '{value}' is not a valid email address.") from None
    return value


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y")


def day(value: str, label: str) -> date:
    """A date as written in Britain (31/12/2026) or ISO (2026-12-31)."""
    candidate = value.split("T")[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(candidate, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"{label} '{value}' is not a date (use 31/12/2026 or 2026-12-31).")


YES = {"yes", "y", "true", "1", "active"}
NO = {"no", "n", "false", "0", "archived", "inactive"}


def yes_no(value: str, label: str) -> bool:
    key = value.strip().casefold()
    if key in YES:
        return True
    if key in NO:
        return False
    raise ValidationError(f"{label} '{value}' should be yes or no.")


def choice(value: str, label: str, choices) -> str:
    """A TextChoices value given as its value or its label, in any case."""
    key = _key(value)
    for stored, shown in choices:
        if key in (_key(stored), _key(shown)):
            return stored
    allowed = ", ".join(str(shown).lower() for _, shown in choices)
    raise ValidationError(f"{label} '{value}' is not one of: {allowed}.")
