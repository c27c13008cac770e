"""Input shapes for finance: draft lines, payments, reasons."""

from decimal import Decimal

from django import forms
from django.forms import formset_factory

from invoicing.models import Payment


class InvoiceLineForm(forms.Form):
    description = forms.CharField(max_length=500)
    quantity = forms.DecimalField(max_digits=12, decimal_places=3, initial=Decimal("1"))
    unit_price = forms.DecimalField(max_digits=12, decimal_places=2)
    discount_percent = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=0, required=False
    )
    tax_rate = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=Decimal("20")
    )


InvoiceLineFormSet = formset_factory(InvoiceLineForm, extra=1, can_delete=True)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = forms.CharField(max_length=3)
    date = forms.DateField(required=False)
    method = forms.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != Payment.Method.CREDIT],
        initial=Payment.Method.BANK_TRANSFER,
    )
    reference = forms.CharField(max_length=128, required=False)

    def __init__(self, *args, invoice=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        if invoice is not None:
            self.fields["currency"].initial = invoice.currency

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if self.invoice is not None and currency != self.invoice.currency:
            raise forms.ValidationError(
                f"{self.invoice} is in {self.invoice.currency}; a {currency} payment cannot "
                "be recorded against it."
            )
        return currency


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class CreditNoteForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Gross; leave empty to credit everything left.",
    )


class ReceiptForm(forms.Form):
    """One sum received from a customer; allocations to invoices come as alloc-<id> fields."""

    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = forms.CharField(max_length=3)
    date = forms.DateField(required=False)
    method = forms.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != Payment.Method.CREDIT],
        initial=Payment.Method.BANK_TRANSFER,
    )
    reference = forms.CharField(max_length=128, required=False)


class ApplyCreditForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Leave empty to use as much credit as the invoice needs.",
    )


class TimeEntryForm(forms.Form):
    person = forms.CharField(max_length=200)
    date = forms.DateField()
    hours = forms.DecimalField(max_digits=7, decimal_places=2, min_value=Decimal("0.01"))
    rate = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, label="Rate per hour")
    tax_rate = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=Decimal("20")
    )
    description = forms.CharField(max_length=500)


class DepositForm(forms.Form):
    percent = forms.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.01"), max_value=100, required=False
    )
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Net of tax.",
    )

    def clean(self):
        data = super().clean()
        if (data.get("percent") is None) == (data.get("amount") is None):
            raise forms.ValidationError("Give the deposit as a percentage or as an amount.")
        return data


class MilestoneForm(forms.Form):
    description = forms.CharField(max_length=500)
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), help_text="Net of tax."
    )
