from django import forms

from oms.webhooks.events import EVENT_TYPES


class EndpointForm(forms.Form):
    """Where events go and which; cross-row rules live in the services."""

    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="The receiver's address. Use https:// outside a private network.",
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="What receives these events, for your team."
    )
    event_types = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {meaning}") for name, meaning in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        label="Events",
        error_messages={"required": "Choose at least one event type."},
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Use an http:// or https:// address.")
        return url
