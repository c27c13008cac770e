"""Input shapes for the quote builder, the quick actions and the customer's answer."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone

from oms import money
from orders.models import Product

LINE_FIELDS = (
    "product",
    "filled",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "tax_rate",
)


class LineForm(forms.Form):
    """One quote line: a catalogue product (which fills the rest) or free text."""

    product = forms.CharField(max_length=32, required=False)
    # The product code whose details were last copied into this row, so a new code refills.
    filled = forms.CharField(max_length=32, required=False)
    description = forms.CharField(max_length=500, required=False)
    quantity = forms.DecimalField(max_digits=12, decimal_places=3)
    unit = forms.CharField(max_length=16, required=False)
    unit_price = forms.DecimalField(max_digits=12, decimal_places=2, required=False)
    discount_percent = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    tax_rate = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )

    def clean_product(self) -> Product | None:
        code = self.cleaned_data["product"].strip()
        if not code:
            return None
        product = Product.objects.filter(code__iexact=code, active=True).first()
        if product is None:
            raise forms.ValidationError(f"No product with code “{code}”.")
        return product

    def clean_quantity(self) -> Decimal:
        quantity = self.cleaned_data["quantity"]
        if quantity <= 0:
            raise forms.ValidationError("Quantity must be more than zero.")
        return quantity

    def clean_unit_price(self) -> Decimal | None:
        price = self.cleaned_data["unit_price"]
        if price is not None and price < 0:
            raise forms.ValidationError("A price cannot be negative.")
        return price

    def clean(self):
        data = super().clean()
        product = data.get("product")
        if not data.get("description"):
            if product:
                data["description"] = product.name
            elif "description" not in self.errors:
                self.add_error("description", "Describe the line or choose a product.")
        if data.get("unit_price") is None and "unit_price" not in self.errors:
            if product:
                data["unit_price"] = product.unit_price
            else:
                self.add_error("unit_price", "Enter a unit price.")
        if data.get("tax_rate") is None and "tax_rate" not in self.errors:
            data["tax_rate"] = product.tax_rate if product else Decimal("20.00")
        if data.get("discount_percent") is None:
            data["discount_percent"] = Decimal("0")
        data["unit"] = data.get("unit") or (product.unit if product else "each")
        return data

    def as_line(self) -> dict:
        """The dict orders.services.set_order_lines takes."""
        data = self.cleaned_data
        return {
            "product": data["product"],
            "description": data["description"],
            "quantity": data["quantity"],
            "unit": data["unit"],
            "unit_price": data["unit_price"],
            "discount_percent": data["discount_percent"],
            "tax_rate": data["tax_rate"],
        }

    def amounts(self) -> tuple[Decimal, Decimal]:
        data = self.cleaned_data
        net = money.line_net(data["quantity"], data["unit_price"], data["discount_percent"])
        return net, money.line_tax(net, data["tax_rate"])


def blank_row() -> dict:
    return {name: "" for name in LINE_FIELDS} | {
        "quantity": "1",
        "unit": "each",
        "discount_percent": "0",
    }


def rows_from_post(post) -> list[dict]:
    """The builder's rows as posted: each field is a list, one entry per row, in order."""
    columns = {name: post.getlist(f"line_{name}") for name in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    return [
        {name: (values[i] if i < len(values) else "") for name, values in columns.items()}
        for i in range(count)
    ]


def rows_from_order(order) -> list[dict]:
    return [
        {
            "product": line.product.code if line.product_id else "",
            "filled": line.product.code if line.product_id else "",
            "description": line.description,
            "quantity": f"{line.quantity.normalize():f}",
            "unit": line.unit,
            "unit_price": f"{line.unit_price:.2f}",
            "discount_percent": f"{line.discount_percent.normalize():f}",
            "tax_rate": f"{line.tax_rate.normalize():f}",
        }
        for line in order.lines.select_related("product")
    ]


def fill_from_products(rows: list[dict]) -> None:
    """Copy description, unit, price and tax rate from a newly chosen product into its row."""
    wanted = {row["product"].strip().lower() for row in rows if row["product"].strip()}
    wanted -= {row["filled"].strip().lower() for row in rows if row["product"] == row["filled"]}
    if not wanted:
        return
    products = {
        product.code.lower(): product
        for product in Product.objects.filter(active=True, code__in=_codes(rows))
    }
    for row in rows:
        code = row["product"].strip()
        product = products.get(code.lower())
        if product and row["filled"].strip().lower() != code.lower():
            row.update(
                product=product.code,
                filled=product.code,
                description=product.name,
                unit=product.unit,
                unit_price=f"{product.unit_price:.2f}",
                tax_rate=f"{product.tax_rate.normalize():f}",
            )


def _codes(rows: list[dict]) -> list[str]:
    codes = {row["product"].strip() for row in rows if row["product"].strip()}
    return sorted(codes | {code.upper() for code in codes} | {code.lower() for code in codes})


def apply_action(rows: list[dict], action: str) -> list[dict]:
    """Add, remove or move a row, as asked by the button pressed. Nothing is saved."""
    verb, _, index = action.partition("-")
    if verb == "add":
        return [*rows, blank_row()]
    if not index.isdigit() or int(index) >= len(rows):
        return rows
    i = int(index)
    rows = list(rows)
    if verb == "remove":
        rows.pop(i)
    elif verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return rows


class QuoteDetailsForm(forms.Form):
    valid_until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    terms = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    @staticmethod
    def default_valid_until():
        return timezone.localdate() + timedelta(days=settings.QUOTE_VALIDITY_DAYS)

    def clean_valid_until(self):
        valid_until = self.cleaned_data["valid_until"]
        if valid_until < timezone.localdate():
            raise forms.ValidationError("The validity date cannot be in the past.")
        return valid_until


class SendForm(forms.Form):
    contact = forms.ModelChoiceField(queryset=None, empty_label="Choose a contact")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.filter(
            archived_at__isnull=True
        ).exclude(email="")
        self.fields["contact"].label = "Send to"


class AcceptForm(forms.Form):
    name = forms.CharField(label="Your full name", max_length=200)
    po = forms.CharField(label="Purchase order number (optional)", max_length=64, required=False)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 3 or " " not in name:
            raise forms.ValidationError("Type your full name, first and last.")
        return name


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class AwaitingFilterForm(forms.Form):
    SORTS = [
        ("age", "Oldest first"),
        ("-age", "Newest first"),
        ("-value", "Highest value"),
        ("value", "Lowest value"),
        ("owner", "Owner"),
    ]
    owner = forms.IntegerField(required=False)
    min_age = forms.IntegerField(label="Older than (days)", min_value=0, required=False)
    min_value = forms.DecimalField(label="Worth at least", min_value=0, required=False)
    sort = forms.ChoiceField(choices=SORTS, required=False)
