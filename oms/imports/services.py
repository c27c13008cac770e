"""Import services: the only way a spreadsheet changes the OMS.

An upload becomes an ImportJob; its column mapping is checked and remembered for the
person and kind; running it rebuilds the plan (plans.py) and writes it in ONE transaction,
in bulk batches, so a file is imported completely or not at all. With "skip invalid rows"
the invalid rows are left out and listed; without it any invalid row refuses the file.
Progress is written to the cache (Redis in production) while the transaction is open, so
the job page can show it. Imported orders enter the state machine at their stated stage
with a timeline event saying so and an `order.imported` outbox event; every finished
import publishes `import.finished`. Nothing here reacts to those events yet.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Contact, Customer
from oms.accounts.roles import Role, has_role
from oms.imports import fields as import_fields
from oms.imports.files import read_table
from oms.imports.models import ColumnMapping, ImportJob, ImportKind
from oms.imports.plans import CustomerUnit, OrderUnit, Plan, ProductUnit, build_plan
from oms.numbering.models import Sequence
from oms.outbox.publish import publish
from orders.models import Order, OrderLine, Product, TimelineEvent
from orders.services import next_order_number, update_order

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
SAMPLE_ROWS = 3
PROGRESS_TIMEOUT = 24 * 3600


def may_import(user, kind: str | None = None) -> bool:
    """Managers (and administrators) import anything; sales may import customers."""
    if has_role(user, Role.MANAGER):
        return True
    return has_role(user, Role.SALES) and kind in (None, ImportKind.CUSTOMERS)


def importable_kinds(user) -> list[tuple[str, str]]:
    return [(value, label) for value, label in ImportKind.choices if may_import(user, value)]


def _ensure_may_import(by, kind: str) -> None:
    if not may_import(by, kind):
        raise PermissionDenied("Your role may not import this kind of file.")


# --- steps 1 and 2: upload, map columns -------------------------------------------------


def start_import(*, kind: str, name: str, data: bytes, by) -> ImportJob:
    """Keep an uploaded file as a new import, once it reads as a sheet with headers; the
    columns are guessed (or taken from this person's last mapping for the kind)."""
    if kind not in ImportKind.values:
        raise ValidationError("Choose what the file holds: customers, products or orders.")
    _ensure_may_import(by, kind)
    table = read_table(data)
    remembered = ColumnMapping.objects.filter(user=by, kind=kind).first()
    mapping = import_fields.guess_mapping(
        kind, table.headers, remembered.mapping if remembered else None
    )
    with transaction.atomic():
        job = ImportJob(
            kind=kind,
            original_name=(name or "upload")[:200],
            file_format=table.file_format,
            headers=table.headers,
            sample=[cells for _, cells in table.rows[:SAMPLE_ROWS]],
            mapping=mapping,
            total_rows=len(table.rows),
            created_by=by,
        )
        job.file.save(f"{kind}.{table.file_format}", ContentFile(data), save=False)
        job.save()
    return job


def set_mapping(job: ImportJob, mapping: dict, *, by) -> ImportJob:
    """Match columns to fields; remembered for this person and kind for next time."""
    _ensure_may_import(by, job.kind)
    mapping = import_fields.check_mapping(job.kind, job.headers, mapping)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _ensure_not_started(job)
        job.mapping = mapping
        job.save(update_fields=["mapping"])
        ColumnMapping.objects.update_or_create(
            user=by, kind=job.kind, defaults={"mapping": mapping}
        )
    return job


def _ensure_not_started(job: ImportJob) -> None:
    if job.status != ImportJob.Status.UPLOADED:
        raise ValidationError("This import has already run; upload the file again to re-run it.")


# --- step 3: preview ---------------------------------------------------------------------


def preview_import(job: ImportJob) -> Plan:
    """What running the import would do, row by row. Reads only."""
    table = read_table(_file_bytes(job))
    import_fields.check_mapping(job.kind, table.headers, job.mapping)
    return build_plan(job.kind, table, job.mapping, by=job.created_by)


def _file_bytes(job: ImportJob) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


# --- step 4: run -------------------------------------------------------------------------


def queue_import(job: ImportJob, *, by, skip_invalid: bool) -> ImportJob:
    """Run a small file now, in this request; hand a large one to the worker (woken after
    this transaction commits; beat's sweep picks it up if that message is lost)."""
    _ensure_may_import(by, job.kind)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _ensure_not_started(job)
        import_fields.check_mapping(job.kind, job.headers, job.mapping)
        job.skip_invalid = skip_invalid
        inline = job.total_rows <= settings.IMPORT_INLINE_MAX_ROWS
        if inline:
            job.status = ImportJob.Status.RUNNING
            job.started_at = timezone.now()
        else:
            job.status = ImportJob.Status.QUEUED
            transaction.on_commit(partial(_wake_worker, job.pk))
        report_progress(job.pk, 0)
        job.save(update_fields=["skip_invalid", "status", "started_at"])
    if inline:
        return run_import(job.pk)
    return job


def _wake_worker(job_id: int) -> None:
    """Best effort: with the broker down, beat's sweep starts the import later."""
    from oms.imports.tasks import run_import_job

    try:
        run_import_job.apply_async((job_id,), retry=False)
    except Exception:  # broker unreachable
        logger.warning("Broker unreachable; import %s waits for the next sweep.", job_id)


def _resumable():
    """Queued imports, and running ones whose run has died: their row is not locked (a
    live run holds the lock until it commits) and they started a while ago."""
    stalled = timezone.now() - timedelta(seconds=settings.IMPORT_RESUME_AFTER)
    return ImportJob.objects.filter(
        Q(status=ImportJob.Status.QUEUED)
        | Q(status=ImportJob.Status.RUNNING, started_at__lt=stalled)
    )


def resumable_imports() -> list[int]:
    """The imports a worker should (re)start now; rows held by live runs are skipped."""
    with transaction.atomic():
        return list(_resumable().select_for_update(skip_locked=True).values_list("pk", flat=True))


def claim_import(job_id: int) -> ImportJob | None:
    """Take a queued (or abandoned) import for this worker; None when a live run has it or
    it has finished, so a task delivered twice does the work once."""
    with transaction.atomic():
        job = _resumable().select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None:
            return None
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    return job


def run_import(job_id: int) -> ImportJob | None:
    """Check every row again and write the file in one transaction, holding the job's row
    lock throughout (which is how a sweep tells a live run from a dead one). A refusal
    (invalid rows without "skip invalid rows") or a crash leaves nothing written, and the
    job says why. None if another run has the job."""
    report_progress(job_id, 0)
    try:
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(pk=job_id, status=ImportJob.Status.RUNNING)
                .first()
            )
            if job is None:
                return None
            plan = preview_import(job)
            job.total_rows = plan.total_rows
            job.errors = [{"row": e.row, "message": e.message} for e in plan.errors]
            if plan.errors and not job.skip_invalid:
                return _finish(job, ImportJob.Status.REJECTED, message=_rejection(plan))
            counts = WRITERS[job.kind](plan, job)
            job.created_count = counts["created"]
            job.updated_count = counts["updated"]
            job.unchanged_count = counts["unchanged"]
            job.skipped_count = plan.error_rows
            job.processed_rows = plan.total_rows
            _finish(job, ImportJob.Status.DONE)
            publish(
                "import.finished",
                subject=job,
                actor=job.created_by,
                import_kind=job.kind,
                created=job.created_count,
                updated=job.updated_count,
                skipped=job.skipped_count,
            )
    except ValidationError as exc:
        return _failed(job_id, " ".join(exc.messages))
    except Exception as exc:
        logger.exception("Import %s failed", job_id)
        return _failed(
            job_id, f"The import stopped on an unexpected error ({exc}); nothing was saved."
        )
    report_progress(job.pk, job.processed_rows)
    return job


def _rejection(plan: Plan) -> str:
    return (
        f"{plan.error_rows} of {plan.total_rows} rows are invalid, so nothing was imported. "
        "Correct them and upload again, or choose to skip invalid rows."
    )


def _finish(job: ImportJob, status: str, *, message: str = "") -> ImportJob:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save()
    return job


def _failed(job_id: int, message: str) -> ImportJob:
    """After the rollback: the job row says what happened; nothing was imported."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        return _finish(job, ImportJob.Status.FAILED, message=message)


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def report_progress(job_id: int, processed: int) -> None:
    """Rows written so far, readable by the job page while the transaction is still open
    (the cache lives outside the database, so it is not held back by the transaction)."""
    cache.set(progress_key(job_id), processed, timeout=PROGRESS_TIMEOUT)


def _batches(units: list, size: int = BATCH_SIZE):
    for start in range(0, len(units), size):
        yield units[start : start + size]


class _Progress:
    def __init__(self, job: ImportJob):
        self.job = job
        self.rows = 0

    def advance(self, units) -> None:
        self.rows += sum(len(unit.rows) for unit in units)
        report_progress(self.job.pk, self.rows)


def _counts(plan: Plan) -> dict[str, int]:
    return {
        "created": plan.count("create"),
        "updated": plan.count("update"),
        "unchanged": plan.count("unchanged"),
    }


# --- the writers: one per kind, bulk in batches inside the caller's transaction ---------


def _write_products(plan: Plan, job: ImportJob) -> dict[str, int]:
    progress = _Progress(job)
    for batch in _batches(plan.units):
        batch: list[ProductUnit]
        Product.objects.bulk_create([u.product for u in batch if u.action == "create"])
        changed = [u for u in batch if u.action == "update"]
        if changed:
            names = sorted({name for u in changed for name in u.changed})
            Product.objects.bulk_update([u.product for u in changed], names)
        progress.advance(batch)
    return _counts(plan)


def _write_customers(plan: Plan, job: ImportJob) -> dict[str, int]:
    progress = _Progress(job)
    for batch in _batches(plan.units):
        batch: list[CustomerUnit]
        Customer.objects.bulk_create([u.customer for u in batch if u.action == "create"])
        changed = [u for u in batch if u.action == "update" and u.changed]
        if changed:
            names = sorted({name for u in changed for name in u.changed})
            Customer.objects.bulk_update([u.customer for u in changed], names)
        new_contacts, changed_contacts = [], []
        for unit in batch:
            for contact_unit in unit.contacts:
                contact_unit.contact.customer = unit.customer
                if contact_unit.action == "create":
                    new_contacts.append(contact_unit.contact)
                elif contact_unit.action == "update":
                    changed_contacts.append(contact_unit)
        Contact.objects.bulk_create(new_contacts)
        if changed_contacts:
            names = sorted({name for c in changed_contacts for name in c.changed})
            Contact.objects.bulk_update([c.contact for c in changed_contacts], names)
        progress.advance(batch)
    return _counts(plan)


def _write_orders(plan: Plan, job: ImportJob) -> dict[str, int]:
    """New orders get the next numbers, their lines and an "imported" timeline event; orders
    already here have their details changed through update_order (timeline and outbox)."""
    progress = _Progress(job)
    by = job.created_by
    for batch in _batches(plan.units, size=200):
        batch: list[OrderUnit]
        new = [u for u in batch if u.action == "create"]
        for unit, number in zip(new, _order_numbers(len(new)), strict=True):
            unit.order.number = number
        Order.objects.bulk_create([u.order for u in new])
        lines = []
        for unit in new:
            for line in unit.lines:
                line.order = unit.order  # the order has its primary key now
                lines.append(line)
        OrderLine.objects.bulk_create(lines)
        TimelineEvent.objects.bulk_create([_imported_event(u, job) for u in new])
        for unit in new:
            publish(
                "order.imported",
                subject=unit.order,
                actor=by,
                stage=unit.stage,
                import_job=job.pk,
                reference=unit.ref,
            )
        for unit in batch:
            if unit.action == "update":
                update_order(unit.order, by=by, **unit.changed)
        progress.advance(batch)
    return _counts(plan)


def _order_numbers(count: int) -> list[str]:
    """The next `count` order numbers at once. The first comes from next_order_number (so
    the format and series are the orders app's); that locked the sequence row until this
    transaction ends, so the block after it is ours alone and the series stays gapless."""
    if count == 0:
        return []
    first = next_order_number()
    prefix, _, digits = first.rpartition("-")
    start = int(digits)
    if count > 1:
        sequence = Sequence.objects.select_for_update().get(
            series="ORD", year=timezone.localdate().year
        )
        assert sequence.last == start, "the sequence moved under its own lock"
        sequence.last += count - 1
        sequence.save(update_fields=["last"])
    return [f"{prefix}-{n:0{len(digits)}d}" for n in range(start, start + count)]


def _imported_event(unit: OrderUnit, job: ImportJob) -> TimelineEvent:
    stage = Order.Status(unit.stage).label.lower()
    reference = f" (their reference {unit.ref})" if unit.ref else ""
    return TimelineEvent(
        order=unit.order,
        kind=TimelineEvent.Kind.TRANSITION,
        actor=job.created_by,
        to_state=unit.stage,
        message=f"Imported from {job.original_name}{reference}, {stage} at import.",
        details={"imported": True, "import_job": job.pk, "rows": unit.rows},
    )


WRITERS: dict[str, Callable[[Plan, ImportJob], dict[str, int]]] = {
    ImportKind.PRODUCTS: _write_products,
    ImportKind.CUSTOMERS: _write_customers,
    ImportKind.ORDERS: _write_orders,
}
