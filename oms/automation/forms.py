from django import forms

from oms.automation.messages import check_template
from oms.automation.models import Rule


class RuleForm(forms.ModelForm):
    stop_when = forms.MultipleChoiceField(
        choices=Rule.Stop.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Stops when",
    )

    class Meta:
        model = Rule
        fields = [
            "name",
            "description",
            "sequence",
            "enabled",
            "trigger",
            "event_kind",
            "anchor",
            "offset_days",
            "min_amount",
            "respect_opt_out",
            "recipient",
            "role",
            "channel",
            "subject_template",
            "body_template",
            "attach_document",
            "flag",
            "stop_when",
        ]
        widgets = {"body_template": forms.Textarea(attrs={"rows": 10})}

    def _template(self, field: str) -> str:
        source = self.cleaned_data.get(field, "")
        try:
            check_template(source)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return source

    def clean_subject_template(self) -> str:
        return self._template("subject_template")

    def clean_body_template(self) -> str:
        return self._template("body_template")

    def clean_offset_days(self) -> int:
        days = self.cleaned_data["offset_days"]
        if abs(days) > 365:
            raise forms.ValidationError("Choose a number of days within a year.")
        return days

    def clean(self) -> dict:
        data = super().clean()
        trigger = data.get("trigger")
        if trigger == Rule.Trigger.EVENT and not data.get("event_kind"):
            self.add_error("event_kind", "Choose the event that triggers this rule.")
        if trigger == Rule.Trigger.DATE and not data.get("anchor"):
            self.add_error("anchor", "Choose the date the days count from.")
        if trigger == Rule.Trigger.EVENT:
            data["anchor"] = ""
            data["offset_days"] = 0
        else:
            data["event_kind"] = ""
        if data.get("recipient") == Rule.Recipient.ROLE and not data.get("role"):
            self.add_error("role", "Choose which team receives it.")
        if data.get("recipient") != Rule.Recipient.ROLE:
            data["role"] = ""
        if (
            data.get("recipient") in Rule.CUSTOMER_RECIPIENTS
            and data.get("channel") == Rule.Channel.IN_APP
        ):
            self.add_error("channel", "Customers are reached by email.")
        return data
