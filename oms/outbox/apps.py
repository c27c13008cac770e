from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "oms.outbox"
    label = "outbox"
    verbose_name = "Automation outbox"
