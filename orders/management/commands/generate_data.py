"""python manage.py generate_data --orders N --seed S: a realistic business for benchmarks."""

import resource
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from oms.bench.generate import BENCH_PASSWORD, generate


class Command(BaseCommand):
    help = (
        "Generate a realistic business (customers, orders at every stage, quotes, invoices, "
        "payments, timelines, follow-ups) with PostgreSQL COPY. Adds to what is there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=10000, help="How many orders.")
        parser.add_argument("--seed", type=int, default=1, help="The same seed, the same data.")
        parser.add_argument(
            "--now",
            type=datetime.fromisoformat,
            default=None,
            help="The moment the history ends (ISO 8601 with offset); default: now.",
        )
        parser.add_argument("--chunk", type=int, default=5000, help="Orders per COPY transaction.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help=f"Run with DEBUG off (staff it creates have the password '{BENCH_PASSWORD}').",
        )

    def handle(
        self, *args, orders: int, seed: int, now, chunk: int, allow_production: bool, **options
    ):
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("generate_data writes with PostgreSQL COPY; set DATABASE_URL.")
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "generate_data creates staff whose password is known; it runs only with DEBUG "
                "on (or --allow-production on a throwaway system)."
            )
        if orders < 1:
            raise CommandError("--orders must be at least 1.")
        if now is not None and now.tzinfo is None:
            raise CommandError("--now needs a time zone offset, e.g. 2026-01-31T12:00:00+00:00.")
        self.stdout.write(f"Generating {orders:,} orders (seed {seed})...")
        stats = generate(orders=orders, seed=seed, now=now, chunk=chunk, log=self.stdout.write)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = sum(stats.rows.values())
        self.stdout.write(
            f"Done: {stats.orders:,} orders, {rows:,} rows in {stats.seconds:.1f} s "
            f"({rows / max(stats.seconds, 1e-9):,.0f} rows/s), peak memory {peak_mib:.0f} MiB."
        )
        for table, count in sorted(stats.rows.items()):
            self.stdout.write(f"  {table:32} {count:>12,}")
        states = ", ".join(f"{state} {count:,}" for state, count in sorted(stats.states.items()))
        self.stdout.write(f"  states: {states}")
