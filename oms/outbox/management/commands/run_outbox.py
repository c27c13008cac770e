from django.core.management.base import BaseCommand

from oms.outbox.runner import drain


class Command(BaseCommand):
    help = "Carry out every unfinished outbox event in this process (no broker needed)."

    def handle(self, *args, **options) -> None:
        count = drain()
        self.stdout.write(f"{count} event(s) carried out.")
