from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "invoicing.banking"
    label = "banking"
    verbose_name = "Bank statements"
