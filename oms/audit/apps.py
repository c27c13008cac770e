from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "oms.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from oms.audit import receivers

        # Framework glue: sign-ins, lockouts and configuration changes feed the audit log.
        receivers.connect()
