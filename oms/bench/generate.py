"""A realistic business, generated fast: customers, orders at every stage, quotes, invoices,
payments, timelines, outbox history and the follow-up and reminder schedule.

Rows are built in chunks of orders and streamed into PostgreSQL with COPY, one transaction
per chunk, by a writer thread while the next chunk is built, so memory stays flat whatever
the size. The same seed (and `now`) gives the same business. Ids are taken after the highest
existing id, document numbers continue each numbering series without a gap, and the id
sequences and numbering rows are advanced at the end, so the services carry on from here.

The history follows the services' own rhythm: every transition has its timeline row and its
outbox event (marked done, as the relay would have left it), issued invoices are written in
their final state (invoice lines go in before their invoice, inside the same transaction, so
the immutability trigger sees a draft-or-absent invoice; foreign keys are checked at commit).

It assumes nobody else writes to the database while it runs.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction

from oms.accounts.roles import Role
from oms.automation.models import Rule
from orders.models import Product

DAY = 86400.0
HISTORY_DAYS = 730
CHUNK_ORDERS = 5000
WRITERS = 2  # COPY connections working side by side
BENCH_PASSWORD = "bench-password"  # noqa: S105 -- staff of a generated business only; see --allow-production
SEND_HOUR = 9  # as oms.automation.services: date-anchored steps go out at nine, local time
NULL = r"\N"

# COPY column lists, in the order each row is built below.
COLUMNS = {
    "customers_customer": "id name segment billing_address delivery_address payment_terms_days "
    "currency tax_number notes status_emails_opt_out external_ref created_at archived_at "
    "account_manager_id",
    "customers_contact": "id name email phone role archived_at customer_id",
    "orders_order": "id number kind source title specification delivery_address requested_date "
    "agreed_date special_instructions po_reference metadata currency status held_from "
    "hold_reason hold_resume_date closed_reason net_total tax_total gross_total created_at "
    "updated_at status_changed_at enquiry_at quoted_at confirmed_at in_progress_at on_hold_at "
    "delivered_at invoiced_at paid_at lost_at cancelled_at assignee_id customer_id owner_id "
    "delivered_to delivery_proof",
    "orders_orderline": "id position description quantity unit unit_price discount_percent "
    "tax_rate delivered_quantity net_amount tax_amount order_id product_id",
    "quotes_quote": "id version status valid_until terms notes lines_snapshot net_total "
    "tax_total gross_total created_at sent_at sent_to accepted_at accepted_by_name accepted_ip "
    "accepted_po declined_at decline_reason expired_at followups_paused order_id",
    # Lines before their invoices: the trigger refuses lines of an invoice already issued.
    "invoicing_invoiceline": "id position description quantity unit_price discount_percent "
    "tax_rate net_amount tax_amount invoice_id order_line_id deducted_invoice_id",
    "invoicing_invoice": "id kind status number currency issue_date due_date net_total "
    "tax_total gross_total amount_paid amount_credited disputed dispute_reason disputed_at "
    "promise_to_pay_date void_reason created_at approved_at sent_at paid_at voided_at "
    "approved_by_id credited_invoice_id customer_id order_id reason",
    "invoicing_payment": "id amount date method reference external_id created_at invoice_id "
    "recorded_by_id",
    "orders_changerequest": "id reason status proposed_lines proposed_agreed_date before after "
    "created_at decided_at decided_by_name decision_note created_by_id decided_by_id order_id",
    "orders_timelineevent": "id kind automation from_state to_state message details created_at "
    "actor_id order_id",
    "outbox_outboxevent": "id kind subject_type subject_id order_id actor_id payload status "
    "created_at available_at dispatched_at completed_at dispatch_count last_error",
    "automation_scheduledaction": "id subject_type subject_id due_at status paused_at fired_at "
    "attempts note created_at order_id rule_id",
    "automation_queueflag": "id kind subject_type subject_id order_id rule_id raised_at",
}
ORDER_TABLES = [t for t in COLUMNS if not t.startswith("customers_")]

# What share of orders end in each state, by how old the order is (days since enquiry):
# young orders are still being quoted, a backlog is in progress, old ones are paid or lost.
STATE_WEIGHTS = [
    (2, {"enquiry": 50, "quoted": 32, "lost": 10, "confirmed": 8}),
    (
        14,
        {"enquiry": 8, "quoted": 42, "lost": 22, "confirmed": 14, "in_progress": 12, "on_hold": 2},
    ),
    (
        45,
        {
            "quoted": 6,
            "lost": 30,
            "confirmed": 8,
            "in_progress": 24,
            "on_hold": 4,
            "delivered": 7,
            "invoiced": 14,
            "paid": 5,
            "cancelled": 2,
        },
    ),
    (
        120,
        {
            "lost": 34,
            "in_progress": 5,
            "on_hold": 2,
            "delivered": 2,
            "invoiced": 15,
            "paid": 39,
            "cancelled": 3,
        },
    ),
    (10**6, {"lost": 37, "paid": 58.5, "cancelled": 3, "invoiced": 1.2, "on_hold": 0.3}),
]
LATER_THAN_CONFIRMED = {"in_progress", "on_hold", "delivered", "invoiced", "paid"}

TOWNS = [
    "Ashford",
    "Bristol",
    "Carlisle",
    "Derby",
    "Exeter",
    "Falmouth",
    "Gloucester",
    "Harrogate",
    "Ipswich",
    "Kendal",
    "Leeds",
    "Ludlow",
    "Margate",
    "Norwich",
    "Oxford",
    "Preston",
    "Reading",
    "Salford",
    "Taunton",
    "Truro",
    "Wakefield",
    "York",
    "Bath",
    "Chester",
    "Durham",
    "Ely",
    "Hereford",
    "Lincoln",
    "Perth",
    "Ripon",
    "Stirling",
    "Wells",
    "Bangor",
    "Lancaster",
]
WORDS = [
    "Harbour",
    "Summit",
    "Oak",
    "Northgate",
    "Riverside",
    "Beacon",
    "Granite",
    "Meridian",
    "Kestrel",
    "Willow",
    "Anchor",
    "Castle",
    "Phoenix",
    "Heron",
    "Thistle",
    "Copper",
    "Atlas",
    "Orchard",
    "Falcon",
    "Brook",
    "Pioneer",
    "Sterling",
    "Maple",
    "Crown",
    "Vale",
    "Lakeside",
    "Compass",
    "Forge",
    "Ember",
    "Rowan",
    "Aspen",
    "Linden",
    "Cedar",
    "Harvest",
    "Lantern",
    "Ridge",
]
TRADES = [
    "Joinery",
    "Engineering",
    "Logistics",
    "Builders",
    "Electrical",
    "Plumbing",
    "Interiors",
    "Facilities",
    "Foods",
    "Hospitality",
    "Dental",
    "Surveyors",
    "Roofing",
    "Print",
    "Fabrication",
    "Landscapes",
    "Healthcare",
    "Estates",
    "Motors",
    "Glazing",
    "Scaffolding",
    "Catering",
    "Laboratories",
    "Studios",
    "Retail",
    "Textiles",
    "Packaging",
]
SUFFIXES = ("Ltd", "Ltd", "Ltd", "Limited", "& Sons", "Group", "LLP", "plc", "Co")
FIRST = [
    "Alex",
    "Sam",
    "Jo",
    "Chris",
    "Priya",
    "Tom",
    "Aisha",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Femi",
    "Grace",
    "Hugo",
    "Imran",
    "Jess",
    "Kai",
    "Leah",
    "Marta",
    "Nia",
    "Omar",
    "Pete",
    "Rosa",
    "Sean",
    "Tara",
    "Uma",
    "Vik",
    "Will",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Smith",
    "Jones",
    "Patel",
    "Brown",
    "Taylor",
    "Khan",
    "Evans",
    "Walker",
    "Wright",
    "Green",
    "Hall",
    "Wood",
    "Clarke",
    "Hughes",
    "Lewis",
    "Shah",
    "Turner",
    "Hill",
    "Cooper",
    "Ward",
    "Morris",
    "Moore",
    "King",
    "Baker",
    "Kaur",
    "Ali",
    "Reid",
    "Scott",
    "Young",
]
TITLES = (
    "Office refit",
    "Replacement units",
    "Annual service",
    "Site survey and install",
    "Warehouse racking",
    "Kitchen equipment",
    "Network cabling",
    "Roof repair",
    "Custom brackets batch",
    "Signage package",
    "Maintenance visit",
    "Fit-out phase 2",
    "Emergency callout",
    "Spare parts order",
)
LOSS_REASONS = ("Price too high", "Went with a competitor", "Project postponed", "No budget")
HOLD_REASONS = ("Waiting on the customer", "Parts on back order", "Site not ready", "Credit check")
DISPUTE_REASONS = ("Quantity short on delivery", "Price differs from the quote", "Damaged item")
CHANGE_REASONS = ("Customer asked for a later date", "Site access moved the schedule")
STEP_NOTES = ("Customer called for an update.", "Left a voicemail.", "Sent drawings over.")


def _money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    return f"{sign}{pence // 100}.{pence % 100:02d}"


_DAYS: dict[int, str] = {}


def _ts(t: float | None) -> str:
    """A UTC timestamp as COPY reads it; built by hand, the hot spot of generation."""
    if t is None:
        return NULL
    micros = round(t * 1_000_000)
    seconds, micro = divmod(micros, 1_000_000)
    day, second = divmod(seconds, 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{text} {hour:02d}:{minute:02d}:{second:02d}.{micro:06d}+00"


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def _json(value) -> str:
    text = _ENCODE(value)
    # COPY's text format gives backslash a meaning of its own.
    return text.replace("\\", "\\\\") if "\\" in text else text


@dataclass
class Staff:
    sales: list[int]
    operations: list[int]
    finance: list[int]
    managers: list[int]


@dataclass
class Customer:
    id: int
    name: str
    manager: int
    terms: int
    email: str
    address: str


@dataclass
class Chunk:
    rows: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, *values: str) -> None:
        self.rows[table].append("\t".join(values))

    def payload(self, tables=ORDER_TABLES) -> list[tuple[str, bytes]]:
        out = []
        for table in tables:
            lines = self.rows.get(table)
            if lines:
                extra = EXTRA_VALUES.get(table, "")
                if extra:
                    lines = [line + extra for line in lines]
                out.append((table, ("\n".join(lines) + "\n").encode()))
        return out


# Columns added to these tables after the generator was written, with the model's default
# for each: (table -> names) and (table -> "\tvalue..." appended to every row).
EXTRA_COLUMNS: dict[str, list[str]] = {}
EXTRA_VALUES: dict[str, str] = {}


def _copy_text(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return _json(value)
    if isinstance(value, datetime):
        return _ts(value.timestamp())
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _find_extra_columns() -> None:
    """Fill every column the generator does not know with its model's default, so a field
    added later (with a default, as migrations on a live table need) never breaks it."""
    from django.apps import apps
    from django.db.models.fields import NOT_PROVIDED

    models_by_table = {model._meta.db_table: model for model in apps.get_models()}
    for table, known in COLUMNS.items():
        known_names = set(known.split())
        names, values = [], []
        for model_field in models_by_table[table]._meta.concrete_fields:
            column = model_field.column
            if column in known_names:
                continue
            if model_field.default is not NOT_PROVIDED:
                default = model_field.default
                value = default() if callable(default) else default
            elif model_field.null:
                value = None
            else:
                raise RuntimeError(f"{table}.{column} has no default; teach the generator it.")
            names.append(column)
            values.append(_copy_text(value))
        EXTRA_COLUMNS[table] = names
        EXTRA_VALUES[table] = "".join("\t" + value for value in values)


@dataclass
class Stats:
    orders: int = 0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    states: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0


class Writer(threading.Thread):
    """Streams each chunk into PostgreSQL with COPY, one transaction per chunk, while the
    generator builds the next one (its queue holds one chunk, so memory stays bounded)."""

    def __init__(self, dsn: str):
        super().__init__(daemon=True)
        self.jobs: queue.Queue = queue.Queue(maxsize=1)
        self.dsn = dsn
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn) as conn:
                _skip_row_triggers(conn)
                while (job := self.jobs.get()) is not None:
                    with conn.transaction(), conn.cursor() as cursor:
                        for table, data in job:
                            columns = ", ".join(COLUMNS[table].split() + EXTRA_COLUMNS[table])
                            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                                copy.write(data)
        except BaseException as exc:  # handed back to the generator, which re-raises it
            self.error = exc
            while self.jobs.get() is not None:
                pass

    def put(self, job) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.put(job)

    def finish(self) -> None:
        self.jobs.put(None)
        self.join()
        if self.error is not None:
            raise self.error


def _skip_row_triggers(conn) -> bool:
    """Load as pg_restore does: no per-row foreign-key and trigger work on this connection
    (the rows are built consistent, and the invariants test proves it). Needs a superuser;
    anyone else loads with every check on, only slower."""
    try:
        with conn.transaction():
            conn.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def _dsn() -> str:
    db = settings.DATABASES["default"]
    parts = {
        "dbname": db["NAME"],
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
    }
    return " ".join(f"{key}='{value}'" for key, value in parts.items() if value)


class Generator:
    def __init__(
        self,
        *,
        orders: int,
        seed: int,
        now: datetime,
        chunk: int = CHUNK_ORDERS,
        log: Callable[[str], None] = print,
    ):
        self.total = orders
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = now.timestamp()
        self.start = self.now - HISTORY_DAYS * DAY
        self.chunk_size = chunk
        self.log = log
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.today = now.astimezone(self.zone).date()
        self.stats = Stats()

    # --- reference data through the ORM -------------------------------------------------

    def _staff(self) -> Staff:
        """Enough staff for the volume: a salesperson per 5,000 orders, and so on."""
        User = get_user_model()
        password = make_password(BENCH_PASSWORD)
        sizes = {
            Role.SALES: min(max(self.total // 5000, 4), 200),
            Role.OPERATIONS: min(max(self.total // 10000, 3), 100),
            Role.FINANCE: min(max(self.total // 20000, 2), 50),
            Role.MANAGER: 2,
        }
        ids: dict[Role, list[int]] = {}
        for role, size in sizes.items():
            group = Group.objects.get(name=role.value)
            word = role.value.lower()
            wanted = [f"bench-{word}-{n:03d}@example.com" for n in range(1, size + 1)]
            have = set(User.objects.filter(email__in=wanted).values_list("email", flat=True))
            for n, email in enumerate(wanted, start=1):
                if email not in have:
                    user = User(
                        email=email,
                        password=password,
                        first_name=self.rng.choice(FIRST),
                        last_name=f"{self.rng.choice(LAST)} ({role.value} {n})",
                    )
                    user.save()
                    user.groups.add(group)
            ids[role] = list(
                User.objects.filter(email__in=wanted).order_by("email").values_list("pk", flat=True)
            )
        return Staff(ids[Role.SALES], ids[Role.OPERATIONS], ids[Role.FINANCE], ids[Role.MANAGER])

    def _products(self) -> list[tuple[int, str, str, int, int]]:
        if Product.objects.filter(active=True).count() < 40:
            rng = random.Random(self.seed + 1)
            Product.objects.bulk_create(
                [
                    Product(
                        code=f"BENCH-{n:03d}",
                        name=f"{rng.choice(WORDS)} {rng.choice(TRADES).lower()} item {n}",
                        kind=rng.choice(Product.Kind.values),
                        unit=rng.choice(["each", "hour", "m", "box"]),
                        unit_price=f"{rng.randint(5, 90000) / 100:.2f}",
                        tax_rate=rng.choice([20, 20, 20, 5, 0]),
                    )
                    for n in range(1, 61)
                ],
                ignore_conflicts=True,
            )
        return [
            (p.pk, p.name, p.unit, int(p.unit_price * 100), int(p.tax_rate))
            for p in Product.objects.filter(active=True).order_by("pk")
        ]

    def _date_rules(self) -> list[tuple[int, str, int, str]]:
        return [
            (rule.pk, rule.anchor, rule.offset_days, rule.subject_type)
            for rule in Rule.objects.filter(enabled=True, trigger=Rule.Trigger.DATE).order_by("pk")
        ]

    def _next_ids(self) -> dict[str, int]:
        ids = {}
        with connection.cursor() as cursor:
            for table in COLUMNS:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
                ids[table] = cursor.fetchone()[0] + 1
        return ids

    def _sequences(self) -> dict[tuple[str, int], int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT series, year, last FROM numbering_sequence")
            return {(series, year): last for series, year, last in cursor.fetchall()}

    # --- the run --------------------------------------------------------------------------

    def run(self) -> Stats:
        started = time.monotonic()
        self.staff = self._staff()
        self.products = self._products()
        self.rules = self._date_rules()
        self.ids = self._next_ids()
        self.numbers = self._sequences()
        _find_extra_columns()
        # Customers commit first (orders point at them); then chunks go round the writers,
        # so PostgreSQL loads on several connections while Python builds the next chunk.
        first = Writer(_dsn())
        first.start()
        try:
            self.customers = self._customers(first)
        finally:
            first.finish()
        writers = [Writer(_dsn()) for _ in range(WRITERS)]
        for writer in writers:
            writer.start()
        try:
            done = 0
            while done < self.total:
                writer = writers[(done // self.chunk_size) % len(writers)]
                size = min(self.chunk_size, self.total - done)
                chunk = Chunk()
                for index in range(done, done + size):
                    self._order(chunk, index)
                for table, lines in chunk.rows.items():
                    self.stats.rows[table] += len(lines)
                writer.put(chunk.payload())
                done += size
                self.stats.orders = done
                if done % (self.chunk_size * 20) == 0 or done == self.total:
                    rate = done / max(time.monotonic() - started, 1e-9)
                    self.log(f"  {done:,} orders ({rate:,.0f}/s)")
        finally:
            for writer in writers:
                writer.finish()
        self._advance_counters()
        self.stats.seconds = time.monotonic() - started
        return self.stats

    def _take(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _number(self, series: str, year: int) -> int:
        key = (series, year)
        self.numbers[key] = self.numbers.get(key, 0) + 1
        return self.numbers[key]

    def _local_date(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.zone).date()

    def _at_send_hour(self, day: date) -> float:
        return datetime(day.year, day.month, day.day, SEND_HOUR, tzinfo=self.zone).timestamp()

    def _customers(self, writer: Writer) -> list[Customer]:
        rng = self.rng
        count = max(1, round(self.total / 20))
        customers = []
        chunk = Chunk()
        for n in range(count):
            customer_id = self._take("customers_customer")
            town = rng.choice(TOWNS)
            name = f"{rng.choice(WORDS)} {rng.choice(TRADES)} {rng.choice(SUFFIXES)}"
            if n % 3:
                name = f"{town} {name}"
            address = f"{rng.randint(1, 250)} {rng.choice(WORDS)} Road\\n{town}"
            slug = f"c{customer_id}"
            terms = rng.choice((30, 30, 30, 14, 60))
            manager = rng.choice(self.staff.sales)
            created = self.start - rng.random() * 200 * DAY
            chunk.add(
                "customers_customer",
                str(customer_id),
                name,
                rng.choice(("trade", "trade", "retail", "public_sector", "enterprise")),
                address,
                address,
                str(terms),
                "GBP",
                f"GB{rng.randint(100000000, 999999999)}",
                "",
                "f",
                "",
                _ts(created),
                NULL,
                str(manager),
            )
            email = f"orders@{slug}.example.com"
            roles = ("primary", "billing", "senior") if n % 4 == 0 else ("primary", "billing")
            for role in roles:
                chunk.add(
                    "customers_contact",
                    str(self._take("customers_contact")),
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    email if role == "primary" else f"{role}@{slug}.example.com",
                    f"0{rng.randint(1000000000, 1999999999)}",
                    role,
                    NULL,
                    str(customer_id),
                )
            customers.append(Customer(customer_id, name, manager, terms, email, address))
        tables = ("customers_customer", "customers_contact")
        for table in tables:
            self.stats.rows[table] += len(chunk.rows[table])
        writer.put(chunk.payload(tables))
        return customers

    def _pick_state(self, age_days: float) -> str:
        weights = STATE_WEIGHTS[-1][1]
        for limit, by_age in STATE_WEIGHTS:
            if age_days < limit:
                weights = by_age
                break
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # --- one order ---------------------------------------------------------------------------

    def _order(self, chunk: Chunk, index: int) -> None:
        OrderHistory(self, chunk, index).build()

    def _advance_counters(self) -> None:
        """Move every id sequence past the rows written and record the numbers issued, so the
        next order or invoice made through the services carries on without a gap."""
        with transaction.atomic(), connection.cursor() as cursor:
            for table in COLUMNS:
                last_id = f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1)"  # noqa: S608
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last_id})")
            for (series, year), last in self.numbers.items():
                cursor.execute(
                    "INSERT INTO numbering_sequence (series, year, last) VALUES (%s, %s, %s) "
                    "ON CONFLICT (series, year) DO UPDATE SET last = EXCLUDED.last",
                    [series, year, last],
                )
        with connection.cursor() as cursor:
            for table in COLUMNS:
                cursor.execute(f"ANALYZE {table}")


TRANSITION_EVENTS = {
    "send_quote": "order.quoted",
    "confirm": "order.confirmed",
    "lose": "order.lost",
    "start_work": "order.started",
    "hold": "order.held",
    "resume": "order.resumed",
    "deliver": "order.delivered",
    "mark_invoiced": "order.invoiced",
    "mark_paid": "order.paid",
    "cancel": "order.cancelled",
}


class OrderHistory:
    """One order's life from enquiry to where it stands today, written as the services would
    have left it."""

    def __init__(self, gen: Generator, chunk: Chunk, index: int):
        self.gen = gen
        self.rng = gen.rng
        self.chunk = chunk
        self.index = index

    # --- emitting rows -----------------------------------------------------------------

    def timeline(
        self,
        kind,
        t,
        *,
        actor=None,
        automation="",
        from_state="",
        to_state="",
        message="",
        **details,
    ) -> None:
        self.chunk.add(
            "orders_timelineevent",
            str(self.gen._take("orders_timelineevent")),
            kind,
            "" if actor else (automation or "automation"),
            from_state,
            to_state,
            message,
            _json(details),
            _ts(t),
            str(actor) if actor else NULL,
            self.sid,
        )

    def outbox(
        self, kind, t, *, subject_type="orders.order", subject_id=None, actor=None, **payload
    ) -> None:
        at, done = _ts(t), _ts(t + 1.5)  # the relay and its handlers took a moment
        self.chunk.add(
            "outbox_outboxevent",
            str(self.gen._take("outbox_outboxevent")),
            kind,
            subject_type,
            str(subject_id or self.order_id),
            self.sid,
            str(actor) if actor else NULL,
            _json(payload),
            "done",
            at,
            at,
            done,
            done,
            "1",
            "",
        )

    def transition(
        self, name, target, t, *, actor=None, automation="", message="", reason="", **details
    ) -> None:
        source = self.status
        self.timeline(
            "transition",
            t,
            actor=actor,
            automation=automation,
            from_state=source,
            to_state=target,
            message=message or reason,
            **details,
        )
        self.outbox(
            TRANSITION_EVENTS[name],
            t,
            actor=actor,
            from_state=source,
            to_state=target,
            reason=reason,
        )
        self.status = target
        self.stamps[target] = t
        self.changed = t

    # --- the story -----------------------------------------------------------------------

    def build(self) -> None:
        gen, rng = self.gen, self.rng
        self.order_id = gen._take("orders_order")
        self.sid = str(self.order_id)
        created = gen.start + HISTORY_DAYS * DAY * (self.index + rng.random()) / gen.total
        state = gen._pick_state((gen.now - created) / DAY)
        gen.stats.states[state] += 1
        customer = gen.customers[int(len(gen.customers) * rng.random() ** 1.6)]
        self.customer = customer
        self.owner = customer.manager if rng.random() < 0.85 else rng.choice(gen.staff.sales)
        self.status = "enquiry"
        self.stamps: dict[str, float] = {"enquiry": created}
        self.changed = created
        year = gen._local_date(created).year
        self.number = f"ORD-{year}-{gen._number('ORD', year):05d}"
        self.assignee = None
        self.hold = ("", "", None)
        self.closed_reason = ""
        self.delivered = ("", "")
        self.agreed = None
        self.po = ""

        lines = self.lines()
        self.net = sum(line[8] for line in lines)
        self.tax = sum(line[9] for line in lines)
        self.gross = self.net + self.tax

        gaps = self.plan(state)
        available = max(gen.now - created, 60.0) / DAY * 0.97  # days, as the gaps
        total = sum(gaps.values())
        scale = min(1.0, available / total) if total else 1.0
        clock = Clock(created, {step: gap * scale for step, gap in gaps.items()})

        self.timeline(
            "transition", created, actor=self.owner, to_state="enquiry", message="Enquiry captured."
        )
        self.outbox("order.created", created, actor=self.owner)
        t = clock.next("lines")
        self.timeline(
            "change",
            t,
            actor=self.owner,
            message=f"Lines updated: {len(lines)} line(s), total {_money(self.gross)}.",
            net_total=_money(self.net),
            tax_total=_money(self.tax),
            gross_total=_money(self.gross),
        )
        self.outbox(
            "order.lines_changed",
            t,
            actor=self.owner,
            gross_total=_money(self.gross),
            line_count=len(lines),
        )

        quote = None
        if "quote" in gaps:
            quote = self.quote(clock, state, lines)
        if state == "lost":
            self.lose(clock, quote)
        elif state not in ("enquiry", "quoted"):
            self.confirm(clock, quote)
            if state == "cancelled":
                t = clock.next("cancel")
                self.closed_reason = rng.choice(LOSS_REASONS[2:])
                self.transition(
                    "cancel", "cancelled", t, actor=self.owner, reason=self.closed_reason
                )
            elif state == "on_hold" and "start" not in gaps:
                self.put_on_hold(clock.next("hold"))
            elif state != "confirmed":
                self.work(clock, state, lines)
        closed = state in ("lost", "cancelled", "paid")
        self.notes(created, self.changed if closed else gen.now)
        self.write_order(created, lines, state)

    def plan(self, state: str) -> dict[str, float]:
        """Days between the steps this order takes, before fitting them into its age."""
        rng = self.rng
        expo = rng.expovariate
        gaps = {"lines": 0.02}
        quoted = state not in ("enquiry", "lost") or rng.random() < 0.65
        if state in ("confirmed", *LATER_THAN_CONFIRMED, "cancelled") and rng.random() < 0.1:
            quoted = False  # confirmed by phone without a quote
        if state == "enquiry":
            quoted = False
        if quoted:
            gaps["quote"] = 0.05 + expo(1 / 1.5)
            if rng.random() < 0.15:
                gaps["revise"] = 0.5 + expo(1 / 3)
        if state == "lost":
            # Most say no within days; some never answer and the quote runs out.
            gaps["answer"] = 0.5 + expo(1 / 8) if rng.random() < 0.7 else 31 + expo(1 / 5)
        elif state not in ("enquiry", "quoted"):
            gaps["answer"] = min(0.2 + expo(1 / 6), 27)
            if state == "cancelled":
                gaps["cancel"] = 1 + expo(1 / 10)
            elif state == "on_hold" and rng.random() < 0.3:
                gaps["hold"] = 1 + expo(1 / 5)
            elif state != "confirmed":
                gaps["start"] = 0.5 + expo(1 / 4)
                if state == "on_hold":
                    gaps["hold"] = 1 + expo(1 / 6)
                else:
                    if rng.random() < 0.08:
                        gaps["hold"] = 1 + expo(1 / 5)
                        gaps["resume"] = 1 + expo(1 / 7)
                    if rng.random() < 0.05:
                        gaps["change"] = 1 + expo(1 / 4)
                    if state != "in_progress":
                        gaps["deliver"] = 2 + expo(1 / 12)
                        gaps["draft"] = 0.001
                    if state in ("invoiced", "paid"):
                        gaps["approve"] = 0.1 + expo(1 / 1.5)
                        gaps["send"] = 0.003
                    if state == "paid":
                        gaps["pay"] = 3 + expo(1 / 25)
        return gaps

    def lines(self) -> list[tuple]:
        rng = self.rng
        count = min(10, 1 + int(rng.expovariate(1 / 2.2)))
        built = []
        for position in range(count):
            product_id, name, unit, price, rate = rng.choice(self.gen.products)
            quantity = rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 10, 12, 20, 50))
            discount = rng.choice((0, 0, 0, 0, 5, 10, 15))
            net = (quantity * price * (100 - discount) + 50) // 100
            tax = (net * rate + 50) // 100
            built.append(
                (
                    self.gen._take("orders_orderline"),
                    position,
                    name,
                    quantity,
                    unit,
                    price,
                    discount,
                    rate,
                    net,
                    tax,
                    product_id,
                )
            )
        self.line_rows = built
        return built

    def notes(self, start: float, end: float) -> None:
        """Notes people left along the way (the page orders the timeline by time)."""
        rng = self.rng
        count = 0
        if rng.random() < 0.5:
            count = 1 if rng.random() < 0.7 else 2
        if self.index % 1000 == 7:
            count = 48  # a long-running account: the order page's 50-event timeline
        span = max(end - start - 120, 1.0)
        for n in sorted(rng.random() for _ in range(count)):
            self.timeline(
                "note", start + 60 + n * span, actor=self.owner, message=rng.choice(STEP_NOTES)
            )

    def quote(self, clock, state: str, lines) -> dict:
        gen = self.gen
        contact = self.customer.email
        snapshot = [
            {
                "product": line[10],
                "description": line[2],
                "quantity": f"{line[3]}.000",
                "unit": line[4],
                "unit_price": _money(line[5]),
                "discount_percent": f"{line[6]}.00",
                "tax_rate": f"{line[7]}.00",
                "net_amount": _money(line[8]),
                "tax_amount": _money(line[9]),
            }
            for line in lines
        ]
        versions = []
        sent = clock.next("quote")
        versions.append({"version": 1, "sent": sent, "created": sent - 600})
        if "revise" in clock.gaps:
            versions.append({"version": 2, "sent": clock.next("revise")})
            versions[-1]["created"] = versions[-1]["sent"] - 600
        for number, version in enumerate(versions):
            quote_id = gen._take("quotes_quote")
            version["id"] = quote_id
            reference = f"{self.number}-Q{version['version']}"
            version["reference"] = reference
            self.timeline(
                "change",
                version["created"],
                actor=self.owner,
                message=f"Quote {reference} drafted.",
                quote=quote_id,
            )
            self.outbox(
                "quote.drafted",
                version["created"],
                subject_type="quotes.quote",
                subject_id=quote_id,
                actor=self.owner,
                version=version["version"],
            )
            superseded = [versions[number - 1]["version"]] if number else []
            message = f"Quote {reference} sent to {contact}."
            if superseded:
                message += f" Replaces version {superseded[0]}."
            self.transition(
                "send_quote",
                "quoted",
                version["sent"],
                actor=self.owner,
                message=message,
                quote=quote_id,
                superseded=superseded,
            )
            self.outbox(
                "quote.sent",
                version["sent"],
                subject_type="quotes.quote",
                subject_id=quote_id,
                actor=self.owner,
                to=contact,
                version=version["version"],
                superseded=superseded,
                gross_total=_money(self.gross),
            )
            version.update(status="sent", stopped=None)
            if number:
                versions[number - 1].update(status="superseded", stopped=version["sent"])
        live = versions[-1]
        live["valid_until"] = self.gen._local_date(live["sent"]) + timedelta(days=30)
        for version in versions[:-1]:
            version["valid_until"] = self.gen._local_date(version["sent"]) + timedelta(days=30)
        self.quote_versions = versions
        self.snapshot = _json(snapshot)
        if state == "quoted" and live["valid_until"] < gen.today:
            self.expire(live)
        return live

    def expire(self, quote: dict) -> None:
        t = self.gen._at_send_hour(quote["valid_until"] + timedelta(days=1)) - 7 * 3600
        t = min(t, self.gen.now - 60)
        quote.update(status="expired", stopped=t, expired=t)
        self.timeline(
            "system",
            t,
            automation="quote expiry",
            message=f"Quote {quote['reference']} expired unanswered.",
            quote=quote["id"],
        )
        self.outbox(
            "quote.expired",
            t,
            subject_type="quotes.quote",
            subject_id=quote["id"],
            version=quote["version"],
        )

    def lose(self, clock, quote) -> None:
        rng = self.rng
        t = clock.next("answer")
        reason = rng.choice(LOSS_REASONS)
        if quote is not None:
            expiry = self.gen._at_send_hour(quote["valid_until"] + timedelta(days=1))
            # The customer said no, or never answered and the quote ran out.
            if t > expiry:
                self.expire(quote)
                t = max(t, quote["stopped"] + 3600)
                reason = "No answer before the quote expired"
            else:
                quote.update(status="declined", stopped=t, declined=t, reason=reason)
                self.timeline(
                    "communication",
                    t,
                    automation="customer",
                    message=f"Quote {quote['reference']} declined: {reason}",
                )
                self.outbox(
                    "quote.declined",
                    t,
                    subject_type="quotes.quote",
                    subject_id=quote["id"],
                    reason=reason,
                    version=quote["version"],
                )
                t += 1800
        t = min(t, self.gen.now - 30)
        self.closed_reason = reason
        self.transition("lose", "lost", t, actor=self.owner, reason=reason)

    def confirm(self, clock, quote) -> None:
        rng = self.rng
        t = clock.next("answer")
        self.po = f"PO{rng.randint(10000, 999999)}" if rng.random() < 0.45 else ""
        self.agreed = self.gen._local_date(t) + timedelta(days=rng.randint(7, 45))
        if quote is None:
            self.transition(
                "confirm",
                "confirmed",
                t,
                actor=self.owner,
                message="Confirmed by phone without a quote.",
            )
            return
        if t > self.gen._at_send_hour(quote["valid_until"]):
            t = quote["sent"] + (self.gen._at_send_hour(quote["valid_until"]) - quote["sent"]) / 2
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        quote.update(status="accepted", stopped=t, accepted=t, accepted_by=name)
        message = f"Quote {quote['reference']} accepted by {name}" + (
            f", PO {self.po}." if self.po else "."
        )
        self.transition("confirm", "confirmed", t, automation="customer", message=message)
        self.outbox(
            "quote.accepted",
            t,
            subject_type="quotes.quote",
            subject_id=quote["id"],
            name=name,
            po=self.po,
            version=quote["version"],
        )

    def put_on_hold(self, t: float) -> None:
        rng = self.rng
        reason = rng.choice(HOLD_REASONS)
        resume = self.gen.today + timedelta(days=rng.randint(3, 30)) if rng.random() < 0.5 else None
        self.hold = (self.status, reason, resume)
        self.transition(
            "hold", "on_hold", t, actor=rng.choice(self.gen.staff.operations), reason=reason
        )

    def work(self, clock, state: str, lines) -> None:
        gen, rng = self.gen, self.rng
        ops = rng.choice(gen.staff.operations)
        self.assignee = ops
        self.transition("start_work", "in_progress", clock.next("start"), actor=ops)
        if "change" in clock.gaps:
            self.change_request(clock.next("change"), ops, open_=state == "in_progress")
        if state == "on_hold":
            self.put_on_hold(clock.next("hold"))
            return
        if "resume" in clock.gaps:
            self.put_on_hold(clock.next("hold"))
            self.hold = ("", "", None)
            self.transition("resume", "in_progress", clock.next("resume"), actor=ops)
        if state == "in_progress":
            return
        t = clock.next("deliver")
        signer = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        proof = f"POD-{rng.randint(100000, 999999)}"
        self.delivered = (signer, proof)
        self.transition(
            "deliver",
            "delivered",
            t,
            actor=ops,
            message=f"Delivered; received by {signer}, proof {proof}.",
            proof=proof,
            received_by=signer,
        )
        self.invoice(clock, state, lines)

    def change_request(self, t: float, by: int, *, open_: bool) -> None:
        rng = self.rng
        change_id = self.gen._take("orders_changerequest")
        reason = rng.choice(CHANGE_REASONS)
        before_date = self.agreed
        after_date = (before_date or self.gen._local_date(t)) + timedelta(days=rng.randint(3, 21))
        status = "awaiting_customer" if open_ else "approved"
        decided = None if open_ else t + 2 * DAY * rng.random()
        before = {
            "agreed_date": before_date.isoformat() if before_date else "",
            "gross_total": _money(self.gross),
        }
        after = {**before, "agreed_date": after_date.isoformat()}
        self.chunk.add(
            "orders_changerequest",
            str(change_id),
            reason,
            status,
            "[]",
            after_date.isoformat(),
            _json(before),
            _json(after),
            _ts(t),
            _ts(decided),
            "" if open_ else f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "",
            str(by),
            NULL,
            self.sid,
        )
        self.timeline(
            "change", t, actor=by, message=f"Change requested: {reason}", change_request=change_id
        )
        self.outbox("change_request.created", t, actor=by, change_request=change_id)
        if not open_:
            self.agreed = after_date
            self.timeline(
                "change",
                decided,
                automation="customer",
                message=f"Change approved: agreed date now {after_date:%d %b %Y}.",
                change_request=change_id,
            )
            self.outbox("change_request.approved", decided, change_request=change_id)

    def invoice(self, clock, state: str, lines) -> None:
        gen, rng = self.gen, self.rng
        invoice_id = gen._take("invoicing_invoice")
        drafted = clock.next("draft")
        label = f"Draft final #{invoice_id}"
        for position, line in enumerate(lines, start=1):
            self.chunk.add(
                "invoicing_invoiceline",
                str(gen._take("invoicing_invoiceline")),
                str(position),
                line[2],
                f"{line[3]}.000",
                _money(line[5]),
                f"{line[6]}.00",
                f"{line[7]}.00",
                _money(line[8]),
                _money(line[9]),
                str(invoice_id),
                str(line[0]),
                NULL,
            )
        self.timeline(
            "system",
            drafted,
            automation="on delivery",
            message=f"Final invoice drafted for GBP {_money(self.gross)}.",
            invoice_id=invoice_id,
            invoice=label,
            gross=_money(self.gross),
        )
        self.outbox(
            "invoice.drafted",
            drafted,
            subject_type="invoicing.invoice",
            subject_id=invoice_id,
            invoice_kind="final",
        )
        status, number, issue, due = "draft", None, None, None
        approved = sent = paid_at = disputed_at = None
        approver = None
        paid = 0
        dispute = ""
        if state in ("invoiced", "paid"):
            approver = rng.choice(gen.staff.finance)
            approved = clock.next("approve")
            issue = gen._local_date(approved)
            due = issue + timedelta(days=self.customer.terms)
            number = f"INV-{issue.year}-{gen._number('INV', issue.year):05d}"
            status = "approved"
            self.timeline(
                "change",
                approved,
                actor=approver,
                message=f"Invoice {number} approved: GBP {_money(self.gross)}, due {due:%d %b %Y}.",
                invoice_id=invoice_id,
                invoice=number,
                number=number,
                gross=_money(self.gross),
            )
            self.outbox(
                "invoice.approved",
                approved,
                subject_type="invoicing.invoice",
                subject_id=invoice_id,
                actor=approver,
                number=number,
                invoice_kind="final",
                gross=_money(self.gross),
            )
            self.transition(
                "mark_invoiced",
                "invoiced",
                approved + 0.2,
                automation="invoicing",
                reason="Approved invoices cover the order total.",
            )
            sent = clock.next("send")
            status = "sent"
            self.timeline(
                "change",
                sent,
                actor=approver,
                message=f"{number} sent to the customer.",
                invoice_id=invoice_id,
                invoice=number,
            )
            self.outbox(
                "invoice.sent",
                sent,
                subject_type="invoicing.invoice",
                subject_id=invoice_id,
                actor=approver,
                number=number,
            )
            payments = []
            if state == "paid":
                last = clock.next("pay")
                if rng.random() < 0.2 and self.gross >= 2:
                    first = sent + (last - sent) * rng.uniform(0.2, 0.8)
                    part = self.gross * rng.randint(20, 80) // 100
                    payments = [(first, max(part, 1)), (last, self.gross - max(part, 1))]
                else:
                    payments = [(last, self.gross)]
            elif rng.random() < 0.25 and self.gross >= 2:
                first = sent + (gen.now - sent) * rng.uniform(0.1, 0.9)
                payments = [(first, max(self.gross * rng.randint(20, 80) // 100, 1))]
            for when, amount in payments:
                self.payment(invoice_id, number, when, amount)
                paid += amount
            if paid and paid < self.gross:
                status = "part_paid"
            if state == "paid":
                status = "paid"
                paid_at = payments[-1][0]
                self.transition(
                    "mark_paid",
                    "paid",
                    paid_at + 0.2,
                    automation="invoicing",
                    reason="Every invoice is settled.",
                )
            elif rng.random() < 0.1:
                disputed_at = sent + (gen.now - sent) * rng.uniform(0.2, 0.9)
                dispute = rng.choice(DISPUTE_REASONS)
                self.timeline(
                    "system",
                    disputed_at,
                    automation="customer",
                    message=f"{number} disputed: {dispute}",
                    invoice_id=invoice_id,
                    invoice=number,
                )
                self.outbox(
                    "invoice.disputed",
                    disputed_at,
                    subject_type="invoicing.invoice",
                    subject_id=invoice_id,
                    reason=dispute,
                )
        self.chunk.add(
            "invoicing_invoice",
            str(invoice_id),
            "final",
            status,
            number or NULL,
            "GBP",
            issue.isoformat() if issue else NULL,
            due.isoformat() if due else NULL,
            _money(self.net),
            _money(self.tax),
            _money(self.gross),
            _money(paid),
            "0.00",
            "t" if dispute else "f",
            dispute,
            _ts(disputed_at),
            NULL,
            "",
            _ts(drafted),
            _ts(approved),
            _ts(sent),
            _ts(paid_at),
            NULL,
            str(approver) if approver else NULL,
            NULL,
            str(self.customer.id),
            self.sid,
            "",
        )
        if due is not None:
            stopped = paid_at or disputed_at
            self.schedule(
                "invoicing.invoice",
                invoice_id,
                due=due,
                sent=None,
                stopped=stopped,
                why="the invoice is paid" if paid_at else "the invoice is disputed",
            )

    def payment(self, invoice_id: int, number: str, t: float, amount: int) -> None:
        gen, rng = self.gen, self.rng
        payment_id = gen._take("invoicing_payment")
        finance = rng.choice(gen.staff.finance)
        self.chunk.add(
            "invoicing_payment",
            str(payment_id),
            _money(amount),
            gen._local_date(t).isoformat(),
            rng.choice(("bank_transfer", "bank_transfer", "bank_transfer", "card", "cheque")),
            f"{number} remittance",
            "",
            _ts(t),
            str(invoice_id),
            str(finance),
        )
        self.timeline(
            "change",
            t,
            actor=finance,
            message=f"Payment of GBP {_money(amount)} recorded against {number}.",
            invoice_id=invoice_id,
            invoice=number,
            payment_id=payment_id,
            amount=_money(amount),
        )
        self.outbox(
            "payment.recorded",
            t,
            subject_type="invoicing.payment",
            subject_id=payment_id,
            actor=finance,
            invoice_id=invoice_id,
            amount=_money(amount),
        )

    def schedule(
        self,
        subject_type: str,
        subject_id: int,
        *,
        due: date,
        sent: float | None,
        stopped: float | None,
        why: str,
    ) -> None:
        """The subject's follow-up or reminder steps: those already due were sent (or, in
        the last half hour, still wait for the sweeper), later ones are pending, and a
        stopped sequence's remaining steps were cancelled."""
        gen = self.gen
        backlog = gen.now - 1800
        for rule_id, anchor, offset, rule_subject in gen.rules:
            if rule_subject != subject_type:
                continue
            if anchor == "quote.sent_at":
                at = sent + offset * DAY
            else:  # a date anchor: the quote's valid-until or the invoice's due date
                at = gen._at_send_hour(due + timedelta(days=offset))
            fired, note = None, ""
            if stopped is not None and at > stopped:
                status, note = "cancelled", f"Stopped: {why}."
            elif at > gen.now or at > backlog:
                status = "pending"
            else:
                status, fired = "sent", at
            self.chunk.add(
                "automation_scheduledaction",
                str(gen._take("automation_scheduledaction")),
                subject_type,
                str(subject_id),
                _ts(at),
                status,
                NULL,
                _ts(fired),
                "1" if fired else "0",
                note,
                _ts(sent or at - 30 * DAY),
                self.sid,
                str(rule_id),
            )

    def write_order(self, created: float, lines, state: str) -> None:
        gen, rng = self.gen, self.rng
        delivered = self.status in ("delivered", "invoiced", "paid")
        for line in lines:
            self.chunk.add(
                "orders_orderline",
                str(line[0]),
                str(line[1]),
                line[2],
                f"{line[3]}.000",
                line[4],
                _money(line[5]),
                f"{line[6]}.00",
                f"{line[7]}.00",
                f"{line[3]}.000" if delivered else "0.000",
                _money(line[8]),
                _money(line[9]),
                self.sid,
                str(line[10]),
            )
        for version in getattr(self, "quote_versions", []):
            self.write_quote(version)
        stamps = self.stamps
        held_from, hold_reason, resume = self.hold
        requested = gen._local_date(created) + timedelta(days=rng.randint(14, 60))
        instructions = "Call ahead; access by the rear gate." if rng.random() < 0.2 else ""
        self.chunk.add(
            "orders_order",
            self.sid,
            self.number,
            rng.choice(("product", "product", "service", "field_job", "manufacturing")),
            rng.choice(("phone", "email", "email", "web", "referral", "other")),
            rng.choice(TITLES),
            "",
            self.customer.address,
            requested.isoformat(),
            self.agreed.isoformat() if self.agreed else NULL,
            instructions,
            self.po,
            "{}",
            "GBP",
            self.status,
            held_from,
            hold_reason,
            resume.isoformat() if resume else NULL,
            self.closed_reason,
            _money(self.net),
            _money(self.tax),
            _money(self.gross),
            _ts(created),
            _ts(self.changed),
            _ts(self.changed),
            _ts(created),
            *(
                _ts(stamps.get(s))
                for s in (
                    "quoted",
                    "confirmed",
                    "in_progress",
                    "on_hold",
                    "delivered",
                    "invoiced",
                    "paid",
                    "lost",
                    "cancelled",
                )
            ),
            str(self.assignee) if self.assignee else NULL,
            str(self.customer.id),
            str(self.owner),
            self.delivered[0],
            self.delivered[1],
        )
        assert self.status == state, (self.status, state)

    def write_quote(self, version: dict) -> None:
        self.chunk.add(
            "quotes_quote",
            str(version["id"]),
            str(version["version"]),
            version["status"],
            version["valid_until"].isoformat(),
            "",
            "",
            self.snapshot,
            _money(self.net),
            _money(self.tax),
            _money(self.gross),
            _ts(version["created"]),
            _ts(version["sent"]),
            self.customer.email,
            _ts(version.get("accepted")),
            version.get("accepted_by", ""),
            NULL,
            self.po if version.get("accepted") else "",
            _ts(version.get("declined")),
            version.get("reason", ""),
            _ts(version.get("expired")),
            "f",
            self.sid,
        )
        why = f"the quote was {version['status']}"
        if version["status"] == "sent" and self.status not in ("enquiry", "quoted"):
            why = f"the order is already {self.status}"
        self.schedule(
            "quotes.quote",
            version["id"],
            due=version["valid_until"],
            sent=version["sent"],
            stopped=version["stopped"],
            why=why,
        )
        if version["status"] == "sent":
            self.flag_if_waiting(version)

    def flag_if_waiting(self, version: dict) -> None:
        """A quote unanswered for 14 days carries the "decision needed" flag in sales' queue."""
        gen = self.gen
        raised = version["sent"] + 14 * DAY
        if raised > gen.now - 1800 or self.status != "quoted":
            return
        rule_id = next(
            (
                rule
                for rule, anchor, offset, _ in gen.rules
                if anchor == "quote.sent_at" and offset == 14 and rule in gen.flag_rules
            ),
            None,
        )
        if rule_id is None:
            return
        self.chunk.add(
            "automation_queueflag",
            str(gen._take("automation_queueflag")),
            "decision_needed",
            "quotes.quote",
            str(version["id"]),
            self.sid,
            str(rule_id),
            _ts(raised),
        )


class Clock:
    """Walks forward through an order's steps; each gap has been fitted into its age."""

    def __init__(self, start: float, gaps: dict[str, float]):
        self.t = start
        self.gaps = gaps

    def next(self, step: str) -> float:
        self.t += max(self.gaps[step] * DAY, 1.0)
        return self.t


def generate(
    *,
    orders: int,
    seed: int,
    now: datetime | None = None,
    chunk: int = CHUNK_ORDERS,
    log: Callable[[str], None] = print,
) -> Stats:
    """Create a business of `orders` orders; returns row counts and timing."""
    now = now or datetime.now(UTC)
    gen = Generator(orders=orders, seed=seed, now=now, chunk=chunk, log=log)
    gen.flag_rules = set(
        Rule.objects.filter(flag=Rule.Flag.DECISION_NEEDED).values_list("pk", flat=True)
    )
    return gen.run()
