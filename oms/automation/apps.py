from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "oms.automation"
    label = "automation"
    verbose_name = "Automation"
