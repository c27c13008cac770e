from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "oms.accounts"
    label = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from oms.accounts.middleware import note_second_factor_owed
        from oms.accounts.roles import ensure_roles

        # Framework glue: the role groups must exist wherever the schema does.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="oms.ensure_roles")
        # Each new session learns whether it owes a second factor before anything else.
        user_logged_in.connect(note_second_factor_owed, dispatch_uid="oms.second_factor_owed")
