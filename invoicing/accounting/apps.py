from django.apps import AppConfig


class AccountingConfig(AppConfig):
    name = "invoicing.accounting"
    label = "accounting"
    verbose_name = "Accounting integration"
