"""The audit log's filters: who, what, and between which days."""

from django import forms

from oms.audit.models import AuditEntry


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Who (email)", required=False, max_length=254)
    action = forms.ChoiceField(
        label="What", required=False, choices=[("", "Everything"), *AuditEntry.Action.choices]
    )
    date_from = forms.DateField(label="From", required=False)
    date_to = forms.DateField(label="To", required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned
