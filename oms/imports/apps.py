from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "oms.imports"
    label = "imports"
    verbose_name = "Imports and exports"
