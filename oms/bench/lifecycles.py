"""Full order lifecycles through the service layer, as fast as one process can, and the
bare-SQL floor PostgreSQL sets for the same number of transactions.

Run as `python -m oms.bench.lifecycles --seconds 10` (prints JSON); the benchmark starts one
and then two of these side by side.
"""

import argparse
import json
import os
import statistics
import time
from decimal import Decimal

# One lifecycle is this many transactions through the services (one per step below).
STEPS = 10
LINES = [
    {"description": "Bench widget", "quantity": Decimal("2"), "unit_price": Decimal("120.00")},
    {"description": "Bench install", "quantity": Decimal("1"), "unit_price": Decimal("450.00")},
    {"description": "Bench cable", "quantity": Decimal("25"), "unit_price": Decimal("3.20")},
]


def cast():
    """The bench's salesperson, operations and finance people, and a customer."""
    from django.contrib.auth import get_user_model

    from customers.models import Customer

    users = get_user_model().objects
    sales = users.get(email="bench-sales-001@example.com")
    operations = users.get(email="bench-operations-001@example.com")
    finance = users.get(email="bench-finance-001@example.com")
    customer = Customer.objects.filter(contacts__role="primary").order_by("pk").first()
    return sales, operations, finance, customer


def lifecycle(sales, operations, finance, customer) -> None:
    """Enquiry, a three-line quote sent and accepted, work started and delivered, the final
    invoice drafted, approved and paid: the order ends paid."""
    from invoicing import services as billing
    from orders import services as orders
    from quotes import services as quotes

    order = orders.create_enquiry(customer=customer, title="Bench lifecycle", by=sales)
    order = orders.set_order_lines(order, LINES, by=sales)
    quote = quotes.create_quote(order, by=sales)
    quote = quotes.send_quote(quote, by=sales)
    quote = quotes.accept_quote(quote, name="Bench Buyer")
    order = orders.start_work(quote.order, by=operations)
    order = orders.deliver_order(order, by=operations, received_by="Site manager")
    invoice = billing.draft_invoice_for_order(order, by=finance)
    invoice = billing.approve_invoice(invoice, by=finance)
    billing.record_payment(invoice, by=finance, amount=invoice.gross_total)


def run_services(seconds: float) -> dict:
    people = cast()
    lifecycle(*people)  # warm caches and connections
    durations = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        begun = time.perf_counter()
        lifecycle(*people)
        durations.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    return {
        "lifecycles": len(durations),
        "seconds": round(elapsed, 3),
        "per_second": round(len(durations) / elapsed, 2),
        "ms_per_lifecycle_p50": round(statistics.median(durations) * 1000, 2),
    }


def run_floor(steps: int) -> dict:
    """The bare SQL of one transition, `steps` times: lock the order row, update it, insert
    a timeline row and an outbox row, commit. Written as done so no worker acts on them."""
    from django.db import connection

    from orders import services as orders

    sales, operations, _, customer = cast()
    scratch = orders.create_enquiry(customer=customer, title="Bench SQL floor", by=sales)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection, used bare
    states = ("enquiry", "quoted")
    timings = []
    with raw.cursor() as cursor:
        for n in range(steps):
            source, target = states[n % 2], states[(n + 1) % 2]
            begun = time.perf_counter()
            with raw.transaction():
                cursor.execute(
                    "SELECT id, status FROM orders_order WHERE id = %s FOR NO KEY UPDATE",
                    [scratch.pk],
                )
                cursor.execute(
                    "UPDATE orders_order SET status = %s, status_changed_at = now(), "
                    "updated_at = now() WHERE id = %s",
                    [target, scratch.pk],
                )
                cursor.execute(
                    "INSERT INTO orders_timelineevent (order_id, kind, actor_id, automation, "
                    "from_state, to_state, message, details, created_at) "
                    "VALUES (%s, 'transition', %s, '', %s, %s, 'SQL floor', '{}', now())",
                    [scratch.pk, operations.pk, source, target],
                )
                cursor.execute(
                    "INSERT INTO outbox_outboxevent (kind, subject_type, subject_id, order_id, "
                    "actor_id, payload, status, created_at, available_at, dispatch_count, "
                    "last_error) VALUES ('bench.floor', 'orders.order', %s, %s, %s, '{}', "
                    "'done', now(), now(), 0, '')",
                    [scratch.pk, scratch.pk, operations.pk],
                )
            timings.append(time.perf_counter() - begun)
    per_step = statistics.mean(timings) * 1000
    return {
        "steps": steps,
        "ms_per_step": round(per_step, 3),
        "ms_per_step_p50": round(statistics.median(timings) * 1000, 3),
        "ms_per_lifecycle": round(per_step * STEPS, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--floor-steps", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    if args.floor_steps:
        print(json.dumps(run_floor(args.floor_steps)))
    else:
        print(json.dumps(run_services(args.seconds)))


if __name__ == "__main__":
    main()
