"""Accounting services: connect, map, push OMS records to the provider, pull payments back.

Contract:
- Every push claims its SyncRecord in a short transaction, calls the provider with no row
  lock held, then writes the outcome (status, external id, a SyncLog row) in another.
- A record is pushed at most once per version: the stored external id is honoured first,
  a record that may already exist remotely (an earlier attempt's response was lost) is
  looked up, and creates carry a deterministic Idempotency-Key (record + version).
- Failures are stored on the record for finance to read and retry; a retryable failure
  raises with `retry_in` set so the Celery task knows when to try again.
- Payments made in the provider are recorded through invoicing.services.record_payment,
  once per external payment id, which moves the invoice and the order on to paid.
"""

import hashlib
import json
import logging
import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from customers.models import Customer
from invoicing import services as invoicing_services
from invoicing.accounting.models import (
    AccountMapping,
    PulledPayment,
    SyncLog,
    SyncRecord,
    WebhookEvent,
    XeroConnection,
)
from invoicing.accounting.provider import (
    AccountingProvider,
    Busy,
    DailyLimitReached,
    NotConnected,
    PushResult,
    RateLimited,
    RemotePayment,
    SyncError,
    ValidationFailed,
)
from invoicing.models import Invoice, Payment
from oms.accounts.roles import Role, has_role

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 300  # longer than a push can take; a crashed worker's claim expires


# --- the connection ---------------------------------------------------------------------------


def current_connection() -> XeroConnection | None:
    return XeroConnection.objects.filter(provider="xero").first()


def _usable_connection() -> XeroConnection:
    connection = current_connection()
    if connection is None or connection.status == XeroConnection.Status.DISCONNECTED:
        raise NotConnected("Xero is not connected.")
    if connection.status == XeroConnection.Status.RECONNECT:
        raise NotConnected("Xero needs reconnecting; a finance user must reconnect Xero.")
    if connection.is_parked:
        wait = (connection.parked_until - timezone.now()).total_seconds()
        raise DailyLimitReached(
            "Xero's daily limit is reached; syncing resumes after the reset.", retry_after=wait
        )
    return connection


# One row per provider; a second (QuickBooks) adds its class here and a connection kind.
PROVIDERS = {"xero": "invoicing.accounting.xero.XeroProvider"}


def get_provider(connection: XeroConnection | None = None) -> AccountingProvider:
    connection = connection or _usable_connection()
    provider_class = import_string(PROVIDERS[connection.provider])
    return provider_class(connection, AccountMapping.current())


def fingerprint(data) -> str:
    """A short, stable digest of what is sent: the version part of an Idempotency-Key."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _ensure_finance(by) -> None:
    if not has_role(by, Role.FINANCE):
        raise PermissionDenied("Only finance and managers may manage the Xero connection.")


def connect_xero(*, by, code: str) -> XeroConnection:
    """Finish the OAuth 2.0 authorisation-code flow: store the tokens encrypted, remember the
    organisation, and requeue whatever waited for a connection."""
    from invoicing.accounting import xero

    _ensure_finance(by)
    token, tenants = xero.exchange_code(code)
    organisations = [t for t in tenants if (t.tenant_type or "ORGANISATION") == "ORGANISATION"]
    if not organisations:
        raise ValidationError("The Xero login did not grant access to an organisation.")
    tenant = organisations[0]
    with transaction.atomic():
        connection, _ = XeroConnection.objects.select_for_update().get_or_create(provider="xero")
        if connection.tenant_id and connection.tenant_id != tenant.tenant_id:
            # A different organisation: earlier external ids mean nothing there.
            SyncRecord.objects.filter(provider="xero").delete()
        xero._store_tokens(connection, token)
        connection.tenant_id = tenant.tenant_id
        connection.org_name = tenant.tenant_name or ""
        connection.status = XeroConnection.Status.ACTIVE
        connection.connected_by = by
        connection.connected_at = timezone.now()
        connection.parked_until = None
        connection.last_error = ""
        connection.save()
        SyncLog.objects.create(
            action="connect", outcome="ok", message=f"Connected to {connection.org_name}."
        )
        transaction.on_commit(_requeue_waiting)
    return connection


def disconnect_xero(*, by) -> XeroConnection:
    """Revoke the tokens at Xero, then forget them here."""
    from invoicing.accounting import xero

    _ensure_finance(by)
    connection = current_connection()
    if connection is None or connection.status == XeroConnection.Status.DISCONNECTED:
        raise ValidationError("Xero is not connected.")
    message = "Disconnected; tokens revoked at Xero."
    try:
        xero.revoke(connection)
    except SyncError as error:
        message = f"Disconnected; Xero could not confirm the revocation ({error.message})."
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().get(pk=connection.pk)
        connection.access_token_encrypted = ""
        connection.refresh_token_encrypted = ""
        connection.expires_at = None
        connection.status = XeroConnection.Status.DISCONNECTED
        connection.save()
        SyncLog.objects.create(action="disconnect", outcome="ok", message=message)
    return connection


def update_mapping(*, by, **values) -> AccountMapping:
    _ensure_finance(by)
    with transaction.atomic():
        mapping = AccountMapping.current()
        mapping = AccountMapping.objects.select_for_update().get(pk=mapping.pk)
        for name, value in values.items():
            setattr(mapping, name, value)
        mapping.save()
    return mapping


# --- queueing -------------------------------------------------------------------------------


def _label(kind: str, obj) -> str:
    if kind == SyncRecord.Kind.CONTACT:
        return obj.name
    if kind == SyncRecord.Kind.PAYMENT:
        return f"{obj.amount} for {obj.invoice}"
    return str(obj)


def queue_sync(kind: str, obj) -> SyncRecord | None:
    """Mark a record as waiting for the provider and push it after commit. Idempotent; does
    nothing while no accounting connection was ever made."""
    connection = current_connection()
    if connection is None or connection.status == XeroConnection.Status.DISCONNECTED:
        return None
    with transaction.atomic():
        record, created = SyncRecord.objects.get_or_create(
            provider="xero", kind=kind, local_id=obj.pk, defaults={"label": _label(kind, obj)}
        )
        if not created and record.status == SyncRecord.Status.FAILED:
            record.status = SyncRecord.Status.PENDING
            record.save(update_fields=["status", "updated_at"])
        transaction.on_commit(lambda: _enqueue(kind, obj.pk))
    return record


def _enqueue(kind: str, local_id: int) -> None:
    from invoicing.accounting import tasks

    task = {
        SyncRecord.Kind.CONTACT: tasks.push_contact_to_xero,
        SyncRecord.Kind.INVOICE: tasks.push_invoice_to_xero,
        SyncRecord.Kind.CREDIT_NOTE: tasks.push_invoice_to_xero,
        SyncRecord.Kind.PAYMENT: tasks.push_payment_to_xero,
    }[kind]
    try:
        task.apply_async(args=[local_id], retry=False)
    except Exception:  # broker down: the periodic sweep of pending records catches up
        logger.warning("Broker unreachable; %s %s waits for the sync sweep.", kind, local_id)


def _requeue_waiting() -> None:
    for record in SyncRecord.objects.filter(status=SyncRecord.Status.PENDING).only(
        "kind", "local_id"
    ):
        _enqueue(record.kind, record.local_id)


def retry_sync(record: SyncRecord, *, by) -> SyncRecord:
    """Finance asked to try again: back to pending with a fresh attempt budget."""
    _ensure_finance(by)
    with transaction.atomic():
        record = SyncRecord.objects.select_for_update().get(pk=record.pk)
        if record.status == SyncRecord.Status.SYNCED:
            raise ValidationError(f"{record} is already in Xero.")
        record.status = SyncRecord.Status.PENDING
        record.attempts = 0
        record.claimed_until = None
        record.save()
        SyncLog.objects.create(
            record=record, action="retry", outcome="ok", message=f"Retry requested by {by}."
        )
        transaction.on_commit(lambda: _enqueue(record.kind, record.local_id))
    return record


def sweep_pending() -> int:
    """Requeue pending records whose next attempt is due (the broker may have lost them)."""
    due = SyncRecord.objects.filter(status=SyncRecord.Status.PENDING).filter(
        next_attempt_at__lte=timezone.now() - timedelta(minutes=5)
    ) | SyncRecord.objects.filter(
        status=SyncRecord.Status.PENDING,
        next_attempt_at__isnull=True,
        updated_at__lte=timezone.now() - timedelta(minutes=10),
    )
    count = 0
    for record in due[:500]:
        _enqueue(record.kind, record.local_id)
        count += 1
    return count


# --- pushing --------------------------------------------------------------------------------


def _claim(kind: str, local_id: int, label: str) -> SyncRecord:
    """Take the record for this worker for a while; another worker holding it means Busy."""
    now = timezone.now()
    with transaction.atomic():
        SyncRecord.objects.bulk_create(
            [SyncRecord(provider="xero", kind=kind, local_id=local_id, label=label)],
            ignore_conflicts=True,
        )
        record = SyncRecord.objects.select_for_update().get(
            provider="xero", kind=kind, local_id=local_id
        )
        if record.claimed_until and record.claimed_until > now:
            raise Busy(f"{record} is being pushed by another worker.")
        record.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
        record.attempts += 1
        record.label = label or record.label
        record.save()
    return record


def _backoff(attempts: int) -> float:
    base = min(15 * 2 ** max(attempts - 1, 0), 3600)
    return base * random.uniform(0.8, 1.2)


def _succeed(record: SyncRecord, result: PushResult, version: str, message: str) -> SyncRecord:
    now = timezone.now()
    with transaction.atomic():
        record = SyncRecord.objects.select_for_update().get(pk=record.pk)
        record.external_id = result.external_id
        record.external_status = result.external_status
        record.status = SyncRecord.Status.SYNCED
        record.pushed_version = version
        record.last_error = ""
        record.claimed_until = None
        record.next_attempt_at = None
        record.synced_at = now
        record.save()
        SyncLog.objects.create(record=record, action=message, outcome="ok")
        XeroConnection.objects.filter(provider="xero").update(last_synced_at=now)
    return record


def _fail(record: SyncRecord, error: SyncError, action: str) -> None:
    """Write the failure down; decide whether (and when) to try again."""
    now = timezone.now()
    retry_in: float | None = None
    if isinstance(error, (RateLimited, DailyLimitReached)):
        retry_in = max(error.retry_after, 1.0)
    elif error.retryable and record.attempts < settings.XERO_SYNC_MAX_ATTEMPTS:
        retry_in = _backoff(record.attempts)
    if isinstance(error, DailyLimitReached):
        park(error.retry_after)
    if isinstance(error, NotConnected) and error.status_code in (401, 403):
        needs_reconnect(error.message)
    with transaction.atomic():
        locked = SyncRecord.objects.select_for_update().get(pk=record.pk)
        locked.claimed_until = None
        locked.last_error = error.message
        if retry_in is None and not isinstance(error, NotConnected):
            locked.status = SyncRecord.Status.FAILED
        elif locked.status != SyncRecord.Status.SYNCED:
            locked.status = SyncRecord.Status.PENDING
        locked.next_attempt_at = now + timedelta(seconds=retry_in) if retry_in else None
        locked.save()
        SyncLog.objects.create(
            record=locked,
            action=action,
            outcome="retry" if retry_in else "failed",
            status_code=error.status_code,
            message=error.message,
        )
    error.retry_in = retry_in
    logger.warning("Xero sync of %s failed: %s", record, error.message)


def _push(
    kind: str,
    local_id: int,
    label: str,
    version: str,
    action: str,
    call: Callable[[SyncRecord, AccountingProvider, str], PushResult],
    provider: AccountingProvider | None = None,
) -> SyncRecord:
    connection = _usable_connection()
    existing = SyncRecord.objects.filter(provider="xero", kind=kind, local_id=local_id).first()
    synced = SyncRecord.Status.SYNCED
    if existing and existing.status == synced and existing.pushed_version == version:
        return existing  # already in Xero as it is now: a redelivered task costs no call
    record = _claim(kind, local_id, label)
    try:
        if record.status == SyncRecord.Status.SYNCED and record.pushed_version == version:
            return record
        key = f"oms-{kind}-{local_id}-{version}"
        result = call(record, provider or get_provider(connection), key)
    except SyncError as error:
        _fail(record, error, action)
        raise
    except BaseException:
        SyncRecord.objects.filter(pk=record.pk).update(claimed_until=None)
        raise
    return _succeed(record, result, version, action)


def _synced_external_id(kind: str, local_id: int) -> str:
    record = (
        SyncRecord.objects.filter(provider="xero", kind=kind, local_id=local_id)
        .exclude(external_id="")
        .first()
    )
    return record.external_id if record else ""


def sync_contact(customer_id: int) -> SyncRecord:
    """Push a customer as a Xero contact: stored id, else matched by name and email, else
    created; never a second contact for the same customer."""
    customer = Customer.objects.prefetch_related("contacts").get(pk=customer_id)
    connection = _usable_connection()
    billing = customer.contact("billing")
    version = fingerprint(
        [
            customer.name,
            customer.tax_number,
            customer.billing_address,
            billing.email if billing else "",
            billing.phone if billing else "",
        ]
    )

    def call(record: SyncRecord, provider: AccountingProvider, key: str) -> PushResult:
        return provider.push_contact(customer, external_id=record.external_id, idempotency_key=key)

    return _push(
        SyncRecord.Kind.CONTACT,
        customer.pk,
        customer.name,
        version,
        "push contact",
        call,
        get_provider(connection),
    )


def _contact_id_for(customer_id: int) -> str:
    contact_id = _synced_external_id(SyncRecord.Kind.CONTACT, customer_id)
    if contact_id:
        return contact_id
    return sync_contact(customer_id).external_id


def _invoice_version(invoice: Invoice, mapping: AccountMapping, contact_id: str) -> str:
    return fingerprint(
        {
            "number": invoice.number,
            "status": mapping.invoice_status,
            "account": mapping.sales_account_code,
            "tax": mapping.tax_types,
            "contact": contact_id,
            "dates": [invoice.issue_date, invoice.due_date],
            "totals": [invoice.net_total, invoice.tax_total, invoice.gross_total],
            "lines": [
                [ln.description, ln.quantity, ln.unit_price, ln.discount_percent, ln.tax_rate]
                for ln in invoice.lines.all()
            ],
        }
    )


def _check_totals(record: SyncRecord, invoice: Invoice, result: PushResult) -> None:
    """Xero computes its own totals; ours must agree to the cent or finance hears of it."""
    if result.total is None:
        return
    ours = (invoice.net_total, invoice.tax_total, invoice.gross_total)
    theirs = (result.subtotal, result.total_tax, result.total)
    if ours != theirs:
        # Keep the Xero id so the retry after a fix updates rather than duplicates.
        SyncRecord.objects.filter(pk=record.pk).update(external_id=result.external_id)
        raise ValidationFailed(
            f"Xero's totals {theirs[0]} + {theirs[1]} = {theirs[2]} differ from the OMS "
            f"totals {ours[0]} + {ours[1]} = {ours[2]}; check the tax mapping."
        )


def sync_invoice(invoice_id: int) -> SyncRecord:
    """Push an approved invoice or credit note with its lines, tax types, account codes,
    reference and due date. A changed version updates the same Xero record."""
    invoice = (
        Invoice.objects.select_related("order", "customer", "credited_invoice")
        .prefetch_related("lines")
        .get(pk=invoice_id)
    )
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        raise ValidationFailed(f"{invoice} is not approved; only issued invoices go to Xero.")
    _usable_connection()
    contact_id = _contact_id_for(invoice.customer_id)
    mapping = AccountMapping.current()
    version = _invoice_version(invoice, mapping, contact_id)
    if invoice.is_credit_note:
        original_id = ""
        if invoice.credited_invoice_id:
            original_id = _synced_external_id(SyncRecord.Kind.INVOICE, invoice.credited_invoice_id)
            if not original_id:
                original_id = sync_invoice(invoice.credited_invoice_id).external_id

        def push_credit(record, provider, key) -> PushResult:
            result = provider.push_credit_note(
                invoice,
                contact_id=contact_id,
                external_id=record.external_id,
                idempotency_key=key,
                invoice_external_id=original_id,
                maybe_exists=record.attempts > 1,
            )
            _check_totals(record, invoice, result)
            return result

        return _push(
            SyncRecord.Kind.CREDIT_NOTE,
            invoice.pk,
            str(invoice),
            version,
            "push credit note",
            push_credit,
        )

    def push(record, provider, key) -> PushResult:
        result = provider.push_invoice(
            invoice,
            contact_id=contact_id,
            external_id=record.external_id,
            idempotency_key=key,
            # Only an earlier attempt can have created it without us hearing back.
            maybe_exists=record.attempts > 1,
        )
        _check_totals(record, invoice, result)
        return result

    return _push(SyncRecord.Kind.INVOICE, invoice.pk, str(invoice), version, "push invoice", push)


def sync_payment(payment_id: int) -> SyncRecord | None:
    """Push a payment recorded in the OMS to Xero against the invoice; payments that came from
    Xero in the first place are only marked as synced."""
    payment = Payment.objects.select_related("invoice").get(pk=payment_id)
    pulled = PulledPayment.objects.filter(payment=payment).first()
    if pulled or payment.external_id:
        with transaction.atomic():
            record, _ = SyncRecord.objects.get_or_create(
                provider="xero",
                kind=SyncRecord.Kind.PAYMENT,
                local_id=payment.pk,
                defaults={"label": _label(SyncRecord.Kind.PAYMENT, payment)},
            )
            record.external_id = pulled.external_id if pulled else payment.external_id
            record.status = SyncRecord.Status.SYNCED
            record.synced_at = record.synced_at or timezone.now()
            record.save()
        return record
    _usable_connection()
    invoice_kind = (
        SyncRecord.Kind.CREDIT_NOTE if payment.invoice.is_credit_note else SyncRecord.Kind.INVOICE
    )
    invoice_external_id = _synced_external_id(invoice_kind, payment.invoice_id)
    if not invoice_external_id:
        invoice_external_id = sync_invoice(payment.invoice_id).external_id
    version = f"{payment.amount}-{payment.date}"

    def push(record, provider, key) -> PushResult:
        return provider.push_payment(
            payment,
            invoice_external_id=invoice_external_id,
            external_id=record.external_id,
            idempotency_key=key,
            maybe_exists=record.attempts > 1,
        )

    return _push(
        SyncRecord.Kind.PAYMENT,
        payment.pk,
        _label(SyncRecord.Kind.PAYMENT, payment),
        version,
        "push payment",
        push,
    )


# --- pulling --------------------------------------------------------------------------------


def record_pulled_payment(remote: RemotePayment) -> Payment | None:
    """Record a payment made in Xero against its OMS invoice, exactly once."""
    if remote.status != "AUTHORISED":
        return None
    if SyncRecord.objects.filter(
        provider="xero", kind=SyncRecord.Kind.PAYMENT, external_id=remote.external_id
    ).exists():
        return None  # one of ours, pushed from the OMS
    if PulledPayment.objects.filter(provider="xero", external_id=remote.external_id).exists():
        return None
    record = SyncRecord.objects.filter(
        provider="xero", kind=SyncRecord.Kind.INVOICE, external_id=remote.invoice_external_id
    ).first()
    if record is None:
        return None  # an invoice the OMS did not send
    invoice = Invoice.objects.get(pk=record.local_id)
    try:
        with transaction.atomic():
            # The unique row is written first: a second delivery blocks here, then fails.
            pulled = PulledPayment.objects.create(
                provider="xero",
                external_id=remote.external_id,
                invoice=invoice,
                amount=remote.amount,
            )
            payment = invoicing_services.record_payment(
                invoice,
                by=None,
                amount=remote.amount,
                date=remote.date,
                method=Payment.Method.BANK_TRANSFER,
                reference=(remote.reference or "Paid in Xero")[:128],
                external_id=remote.external_id,
            )
            pulled.payment = payment
            pulled.save(update_fields=["payment"])
            SyncLog.objects.create(
                action="pull payment",
                outcome="ok",
                message=f"{remote.amount} received in Xero for {invoice}.",
            )
    except IntegrityError:
        return None  # another worker recorded it first
    except ValidationError as error:
        SyncLog.objects.create(
            action="pull payment",
            outcome="failed",
            message=f"{remote.amount} for {invoice} not recorded: {' '.join(error.messages)}",
        )
        return None
    return payment


def poll_payments() -> int:
    """Fetch payments changed in Xero since the last poll and record the new ones."""
    connection = _usable_connection()
    provider = get_provider(connection)
    try:
        # Nothing paid before the connection can be for an invoice the OMS sent.
        since = connection.payments_polled_at or connection.connected_at
        pulled = provider.pull_payments(since=since)
    except SyncError as error:
        if isinstance(error, DailyLimitReached):
            park(error.retry_after)
        SyncLog.objects.create(
            action="poll payments",
            outcome="retry" if error.retryable else "failed",
            status_code=error.status_code,
            message=error.message,
        )
        raise
    recorded = sum(1 for remote in pulled.payments if record_pulled_payment(remote))
    # Overlap the next window a little: recording is idempotent, a gap would lose payments.
    XeroConnection.objects.filter(pk=connection.pk).update(
        payments_polled_at=pulled.polled_at - timedelta(minutes=1),
        last_synced_at=timezone.now(),
    )
    return recorded


def receive_webhook_events(events: list[dict]) -> list[int]:
    """Store verified webhook events once each; return the ids that are new."""
    connection = current_connection()
    new_ids = []
    for event in events:
        key_source = "|".join(
            str(event.get(name, ""))
            for name in ("tenantId", "eventCategory", "eventType", "resourceId", "eventDateUtc")
        )
        key = hashlib.sha256(key_source.encode()).hexdigest()
        if connection and event.get("tenantId") and event["tenantId"] != connection.tenant_id:
            continue
        stored, created = WebhookEvent.objects.get_or_create(
            event_key=key,
            defaults={
                "tenant_id": event.get("tenantId", ""),
                "category": event.get("eventCategory", ""),
                "event_type": event.get("eventType", ""),
                "resource_id": event.get("resourceId", ""),
                "event_date": event.get("eventDateUtc", ""),
            },
        )
        if created:
            new_ids.append(stored.pk)
    return new_ids


def process_webhook_event(event_id: int) -> int:
    """Act on one webhook event once: an invoice changed, so fetch its payments."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at:
            return 0
    recorded = 0
    if event.category == "INVOICE":
        provider = get_provider()
        try:
            remote_payments = provider.invoice_payments(event.resource_id)
        except ValidationFailed:
            remote_payments = []  # the invoice is gone or not ours
        recorded = sum(1 for remote in remote_payments if record_pulled_payment(remote))
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    return recorded


def needs_reconnect(message: str) -> None:
    """Xero refused the organisation's access: show finance the reconnect banner."""
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().filter(provider="xero").first()
        if connection is None or connection.status != XeroConnection.Status.ACTIVE:
            return
        connection.status = XeroConnection.Status.RECONNECT
        connection.last_error = message
        connection.save(update_fields=["status", "last_error"])
        SyncLog.objects.create(action="access refused", outcome="failed", message=message)


# --- limits ----------------------------------------------------------------------------------


def park(seconds: float) -> XeroConnection | None:
    """Stop calling Xero until its daily limit resets; alert finance once per parking."""
    until = timezone.now() + timedelta(seconds=seconds)
    alert = False
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().filter(provider="xero").first()
        if connection is None:
            return None
        if not connection.is_parked:
            alert = True
            connection.park_alerted_at = timezone.now()
        connection.parked_until = max(until, connection.parked_until or until)
        connection.save(update_fields=["parked_until", "park_alerted_at"])
        if alert:
            SyncLog.objects.create(
                action="daily limit",
                outcome="failed",
                status_code=429,
                message=f"Xero's daily limit reached; syncing paused until "
                f"{timezone.localtime(connection.parked_until):%d %b %H:%M}.",
            )
    if alert:
        _alert_finance(connection)
    return connection


def _alert_finance(connection: XeroConnection) -> None:
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[Role.FINANCE, Role.MANAGER])
        .distinct()
    )
    recipients = [u.email for u in users if u.email]
    logger.error("Xero daily limit reached; syncing paused until %s.", connection.parked_until)
    if recipients:
        send_mail(
            "Xero sync paused: daily limit reached",
            "Xero's daily API limit for this organisation is reached. Syncing pauses until "
            f"{timezone.localtime(connection.parked_until):%d %b %Y %H:%M} and then resumes "
            "by itself; nothing is lost.",
            None,
            recipients,
            fail_silently=True,
        )
