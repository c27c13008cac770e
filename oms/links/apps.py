from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "oms.links"
    label = "links"
    verbose_name = "Customer links"
