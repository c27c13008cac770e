"""Input shapes for bank statements: the upload and finance's choices on a line."""

from django import forms
from django.conf import settings

MAX_STATEMENT_BYTES = 5 * 1024 * 1024


class StatementUploadForm(forms.Form):
    file = forms.FileField(label="Statement (CSV)")
    currency = forms.CharField(max_length=3, initial=settings.DEFAULT_CURRENCY)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_STATEMENT_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split the statement.")
        return upload


class LineChangeForm(forms.Form):
    invoice_numbers = forms.CharField(
        required=False,
        max_length=500,
        label="Invoice numbers",
        help_text="One customer's, separated by commas; leave empty to keep it all as credit.",
    )
    customer_name = forms.CharField(
        required=False,
        max_length=200,
        label="or customer",
        help_text="The customer's exact name, to keep the whole amount as their credit.",
    )


class IgnoreForm(forms.Form):
    reason = forms.CharField(max_length=2000)
