from django.apps import AppConfig


class NumberingConfig(AppConfig):
    name = "oms.numbering"
    label = "numbering"
    verbose_name = "Document numbering"
