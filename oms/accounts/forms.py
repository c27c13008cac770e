from django import forms

from oms.accounts.models import User


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["notify_by_email"]
        labels = {"notify_by_email": "Also email me my notifications"}
