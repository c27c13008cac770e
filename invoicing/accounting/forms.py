"""The mappings form: the shape of Xero codes, with sensible defaults."""

import re
from decimal import Decimal, InvalidOperation

from django import forms

from invoicing.accounting.models import AccountMapping
from invoicing.models import Payment

CODE = re.compile(r"^[A-Za-z0-9_-]{1,10}$")
TAX_TYPE = re.compile(r"^[A-Z0-9_]{2,40}$")


def _code(value: str, what: str) -> str:
    value = (value or "").strip()
    if not CODE.match(value):
        raise forms.ValidationError(f"{what} must be a Xero account code (letters and digits).")
    return value


class MappingForm(forms.Form):
    sales_account_code = forms.CharField(label="Sales account code", max_length=10)
    invoice_status = forms.ChoiceField(
        label="Send invoices to Xero as", choices=AccountMapping.InvoiceStatus.choices
    )
    tax_types = forms.CharField(
        label="Tax rates to Xero tax types",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: rate = TAX TYPE, e.g. 20 = OUTPUT2",
    )
    default_payment_account = forms.CharField(label="Default bank account code", max_length=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for method, label in Payment.Method.choices:
            if method == Payment.Method.CREDIT:
                continue
            self.fields[f"payment_{method}"] = forms.CharField(
                label=f"{label} → Xero bank account code", max_length=10, required=False
            )

    @classmethod
    def for_mapping(cls, mapping: AccountMapping, data=None) -> "MappingForm":
        initial = {
            "sales_account_code": mapping.sales_account_code,
            "invoice_status": mapping.invoice_status,
            "default_payment_account": mapping.default_payment_account,
            "tax_types": "\n".join(
                f"{rate} = {tax_type}" for rate, tax_type in sorted(mapping.tax_types.items())
            ),
        }
        for method, code in mapping.payment_accounts.items():
            initial[f"payment_{method}"] = code
        return cls(data=data, initial=initial)

    def clean_sales_account_code(self) -> str:
        return _code(self.cleaned_data["sales_account_code"], "The sales account code")

    def clean_default_payment_account(self) -> str:
        return _code(self.cleaned_data["default_payment_account"], "The default bank account")

    def clean_tax_types(self) -> dict:
        mapping: dict[str, str] = {}
        for number, raw in enumerate(self.cleaned_data["tax_types"].splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            rate_text, _, tax_type = line.partition("=")
            try:
                rate = Decimal(rate_text.strip().rstrip("%")).quantize(Decimal("0.01"))
            except InvalidOperation:
                raise forms.ValidationError(
                    f"Line {number}: “{rate_text.strip()}” is not a rate."
                ) from None
            tax_type = tax_type.strip().upper()
            if not (Decimal("0") <= rate <= Decimal("100")):
                raise forms.ValidationError(f"Line {number}: a rate is between 0 and 100.")
            if not TAX_TYPE.match(tax_type):
                raise forms.ValidationError(
                    f"Line {number}: “{tax_type}” is not a Xero tax type (e.g. OUTPUT2)."
                )
            if str(rate) in mapping:
                raise forms.ValidationError(f"Line {number}: {rate}% is mapped twice.")
            mapping[str(rate)] = tax_type
        if not mapping:
            raise forms.ValidationError("Map at least one tax rate.")
        return mapping

    def mapping_values(self) -> dict:
        data = self.cleaned_data
        payments = {}
        for name, value in data.items():
            if name.startswith("payment_") and value:
                payments[name.removeprefix("payment_")] = _code(value, "A bank account code")
        return {
            "sales_account_code": data["sales_account_code"],
            "invoice_status": data["invoice_status"],
            "tax_types": data["tax_types"],
            "default_payment_account": data["default_payment_account"],
            "payment_accounts": payments,
        }

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if name.startswith("payment_") and value and not CODE.match(value.strip()):
                self.add_error(name, "Enter a Xero account code (letters and digits).")
        return cleaned
