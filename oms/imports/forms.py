"""Input shapes for the import steps: the upload, the column mapping and the run."""

from django import forms
from django.conf import settings

from oms.imports.fields import fields_for


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="The file holds")
    file = forms.FileField(
        label="Spreadsheet (.csv or .xlsx)",
        help_text="CSV saved as UTF-8, or an Excel workbook; the first sheet is read and its "
        "first row must name the columns.",
    )

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0][0]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the largest accepted is {limit:,} bytes. "
                "Split it into smaller files."
            )
        return upload


class MappingForm(forms.Form):
    """One choice of column per field the kind of import reads."""

    def __init__(self, *args, kind: str, headers: list[str], sample: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        first = (sample or [[]])[0]
        choices = [("", "— not in this file —")] + [
            (header, _with_example(header, first[i] if i < len(first) else ""))
            for i, header in enumerate(headers)
            if header
        ]
        for field in fields_for(kind):
            self.fields[field.name] = forms.ChoiceField(
                label=field.label + (" *" if field.required else ""),
                choices=choices,
                required=False,
                help_text=field.help,
            )

    def mapping(self) -> dict:
        return {name: header for name, header in self.cleaned_data.items() if header}


class RunForm(forms.Form):
    skip_invalid = forms.BooleanField(
        label="Skip invalid rows and import the rest",
        required=False,
        help_text="Without this, one invalid row stops the whole file and nothing is imported.",
    )


def _with_example(header: str, value: str) -> str:
    """The column as the person knows it: its header and what its first row holds."""
    if not value:
        return header
    example = value if len(value) <= 30 else value[:29] + "…"
    return f"{header} (e.g. {example})"
