from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "oms.accounts"
    label = "accounts"
    verbose_name = "Users and roles"
