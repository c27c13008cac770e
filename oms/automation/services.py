"""Automation services: run rules, start and stop sequences, send messages exactly once.

Contract:
- run_event_rules() sends what the enabled event rules for an event say; called by a
  handler inside the handler's transaction, keyed by the outbox event, so it is safe to
  run twice.
- start_sequence() / stop_sequence() / pause_sequence() / resume_sequence() write due rows
  (ScheduledAction) for the date rules of a quote or invoice; send_due() is the beat
  sweeper that claims due rows with SELECT ... FOR UPDATE SKIP LOCKED, one row per
  transaction, re-checks what stops the sequence, and sends. A backlog (beat or workers
  down for hours) is caught up once: each row is sent once and marked sent.
- Every message is keyed (EmailLog.key, Notification.key) by the event or due row and the
  recipient, and written to the order's timeline with its content and the rule's name.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from oms.automation.messages import money, render, render_email
from oms.automation.models import EmailLog, Notification, QueueFlag, Rule, ScheduledAction

logger = logging.getLogger(__name__)

# Date-based steps go out at this local hour on their day.
SEND_HOUR = 9
SWEEP_LIMIT = 500
MAX_SEND_ATTEMPTS = 5

QUOTE = "quotes.quote"
INVOICE = "invoicing.invoice"
ORDER = "orders.order"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    user: object | None = None  # a member of staff, or None for a customer contact

    @property
    def key(self) -> str:
        return f"u{self.user.pk}" if self.user is not None else self.email.lower()


# --- loading what an event or row names -------------------------------------------


def load(subject_type: str, subject_id: int) -> models.Model | None:
    model = apps.get_model(subject_type)
    return model.objects.filter(pk=subject_id).first()


def order_of(subject: models.Model):
    if subject._meta.label_lower == ORDER:
        return subject
    return getattr(subject, "order", None)


# --- links ---------------------------------------------------------------------------


def customer_link(subject: models.Model, order) -> str:
    """The customer's page for what the message is about: the quote, the invoice, or the
    order's tracking page (signed links; a plain tracking address if links are absent)."""
    try:
        from oms.links import services as links

        label = subject._meta.label_lower
        if label == QUOTE:
            return links.quote_url(subject)
        if label == INVOICE:
            return links.invoice_url(subject)
        return links.tracking_url(order)
    except (ImportError, NoReverseMatch, KeyError, AttributeError):
        return f"{settings.SITE_URL}/track/{order.number}"


def staff_link(order) -> str:
    try:
        return f"{settings.SITE_URL}{reverse('orders:detail', args=[order.number])}"
    except NoReverseMatch:
        return f"{settings.SITE_URL}/orders/{order.number}/"


# --- the values a template may show ---------------------------------------------------


def order_details(order) -> str:
    rows = [f"Order {order.number}: {order.title}", f"Customer: {order.customer.name}"]
    if order.po_reference:
        rows.append(f"Customer PO: {order.po_reference}")
    for line in order.lines.all():
        rows.append(
            f"- {line.quantity.normalize():f} {line.unit} {line.description} "
            f"@ {money(line.unit_price, order.currency)}"
        )
    rows.append(f"Total: {money(order.gross_total, order.currency)} (incl. tax)")
    if order.requested_date:
        rows.append(f"Requested date: {order.requested_date:%d %b %Y}")
    if order.agreed_date:
        rows.append(f"Agreed date: {order.agreed_date:%d %b %Y}")
    if order.delivery_address:
        rows.append(f"Deliver to: {' '.join(order.delivery_address.split())}")
    if order.special_instructions:
        rows.append(f"Instructions: {order.special_instructions}")
    if order.specification:
        rows.append(f"Specification: {order.specification}")
    return "\n".join(rows)


def template_values(subject: models.Model, order, *, payload: dict | None = None) -> dict:
    payload = payload or {}
    values = {
        "customer_name": order.customer.name,
        "order_number": order.number,
        "order_title": order.title,
        "order_status": order.get_status_display(),
        "order_details": order_details(order),
        "owner_name": str(order.owner),
        "amount": money(order.gross_total, order.currency),
        "reason": payload.get("reason") or order.closed_reason or order.hold_reason or "",
        "company_name": settings.COMPANY["name"],
    }
    label = subject._meta.label_lower
    if label == QUOTE:
        values.update(
            quote_number=subject.reference,
            valid_until=f"{subject.valid_until:%d %b %Y}",
            amount=money(subject.gross_total, order.currency),
        )
    elif label == INVOICE:
        values.update(
            invoice_number=subject.number or "draft",
            due_date=f"{subject.due_date:%d %b %Y}" if subject.due_date else "",
            days_overdue=str(subject.days_overdue),
            amount=money(subject.gross_total, subject.currency),
            amount_due=money(subject.outstanding, subject.currency),
        )
    return values


# --- recipients and conditions --------------------------------------------------------


def recipients_for(rule: Rule, order, *, to: str = "") -> list[Recipient]:
    """Who `rule` reaches for `order`; `to` is an address the sender chose (a quote sent
    to a particular person), used instead of the customer's main contact."""
    from customers.models import Contact

    if rule.recipient == Rule.Recipient.CUSTOMER and to:
        contact = next(
            (c for c in order.customer.contacts.all() if c.email.lower() == to.lower()), None
        )
        return [Recipient(email=to, name=contact.name if contact else order.customer.name)]
    if rule.recipient in Rule.CUSTOMER_RECIPIENTS:
        role = {
            Rule.Recipient.CUSTOMER: Contact.Role.PRIMARY,
            Rule.Recipient.BILLING: Contact.Role.BILLING,
            Rule.Recipient.SENIOR: Contact.Role.SENIOR,
        }[rule.recipient]
        contact = order.customer.contact(role)
        if contact is None or not contact.email:
            return []
        return [Recipient(email=contact.email, name=contact.name)]
    if rule.recipient == Rule.Recipient.OWNER:
        users = [order.owner] if order.owner.is_active else []
    else:
        users = list(
            apps.get_model(settings.AUTH_USER_MODEL)
            .objects.filter(is_active=True, groups__name=rule.role)
            .distinct()
            .order_by("id")
        )
    return [Recipient(email=u.email, name=u.get_full_name() or u.email, user=u) for u in users]


def condition_holds(rule: Rule, subject: models.Model, order) -> bool:
    customer = rule.recipient in Rule.CUSTOMER_RECIPIENTS
    if rule.respect_opt_out and customer and order.customer.status_emails_opt_out:
        return False
    if rule.min_amount is not None:
        amount = getattr(subject, "gross_total", order.gross_total)
        if amount < rule.min_amount:
            return False
    return True


# --- sending, exactly once ---------------------------------------------------------------

_outgoing: ContextVar[list | None] = ContextVar("outgoing_mail", default=None)


@contextmanager
def mail_after_writes() -> Iterator[None]:
    """Hold emails until the block's database work is done, then send them, still inside
    the transaction. A run that blocks or dies part-way (a lock wait, a killed worker)
    has then sent nothing, and its retry sends everything once."""
    token = _outgoing.set([])
    try:
        yield
        for message in _outgoing.get():
            message.send()
    finally:
        _outgoing.reset(token)


def send_email(
    *,
    key: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    order=None,
    rule=None,
    attachments: list[tuple[str, bytes, str]] = (),
) -> EmailLog:
    """Send one email unless an email with `key` was already sent; the log row commits with
    the caller's transaction, so a rolled-back run leaves no trace and its retry sends."""
    log, created = EmailLog.objects.get_or_create(
        key=key[:200],
        defaults={
            "to": to,
            "subject": subject[:300],
            "body_text": text,
            "body_html": html,
            "order": order,
            "rule": rule,
        },
    )
    if created:
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
        message.attach_alternative(html, "text/html")
        for name, content, mimetype in attachments:
            message.attach(name, content, mimetype)
        message.extra_headers["X-OMS-Key"] = key[:200]
        held = _outgoing.get()
        if held is None:
            message.send()
        else:
            held.append(message)
    return log


def notify(
    user, *, key: str, title: str, body: str = "", url: str = "", order=None, rule=None
) -> Notification:
    notification, _ = Notification.objects.get_or_create(
        key=key[:200],
        defaults={
            "user": user,
            "title": title[:300],
            "body": body,
            "url": url,
            "order": order,
            "rule": rule,
        },
    )
    return notification


def deliver(
    rule: Rule, *, subject: models.Model, order, key: str, payload: dict | None = None
) -> list[str]:
    """Send what `rule` says about `subject` to its recipients, once per `key` and
    recipient, and write it to the order's timeline. Returns the addresses reached."""
    from orders.services import record

    if not condition_holds(rule, subject, order):
        return []
    values = template_values(subject, order, payload=payload)
    reached: list[str] = []
    shown_subject = shown_body = ""
    attachments = _documents(rule, subject)
    for person in recipients_for(rule, order, to=(payload or {}).get("to", "")):
        for_customer = person.user is None
        person_values = {
            **values,
            "contact_name": person.name,
            "link": customer_link(subject, order) if for_customer else staff_link(order),
        }
        person_key = f"{key}:{person.key}"
        by_email = for_customer or rule.channel == Rule.Channel.EMAIL
        also_email = not by_email and person.user.notify_by_email and bool(person.email)
        if by_email or also_email:
            title, text, html = render_email(
                rule.subject_template, rule.body_template, person_values
            )
        else:  # the inbox alone: no email twins to render
            title = " ".join(render(rule.subject_template, person_values, html=False).split())
        plain = render(rule.body_template, person_values, html=False)
        shown_subject, shown_body = title, plain
        if by_email:
            send_email(
                key=person_key,
                to=person.email,
                subject=title,
                text=text,
                html=html,
                order=order,
                rule=rule,
                attachments=attachments,
            )
        else:
            notify(
                person.user,
                key=person_key,
                title=title,
                body=plain,
                url=staff_link(order),
                order=order,
                rule=rule,
            )
            if also_email:
                send_email(
                    key=f"{person_key}:email",
                    to=person.email,
                    subject=title,
                    text=text,
                    html=html,
                    order=order,
                    rule=rule,
                )
        reached.append(person.email)
    flagged = _raise_flag(rule, subject, order)
    if reached or flagged:
        channel = "email" if rule.recipient in Rule.CUSTOMER_RECIPIENTS else rule.channel
        record(
            order,
            kind="communication",
            automation=rule.name[:64],
            message=f"{rule.name}: {shown_subject}" if reached else f"{rule.name}: flag raised",
            recipients=reached,
            subject=shown_subject,
            body=shown_body,
            channel=channel,
            rule=rule.pk,
            flag=rule.flag,
        )
    return reached


def _documents(rule: Rule, subject: models.Model) -> list[tuple[str, bytes, str]]:
    """The quote or invoice PDF, when the rule attaches it."""
    if not rule.attach_document:
        return []
    label = subject._meta.label_lower
    if label == QUOTE:
        from quotes.pdf import quote_pdf_filename, render_quote_pdf

        return [(quote_pdf_filename(subject), render_quote_pdf(subject), "application/pdf")]
    if label == INVOICE:
        try:
            from invoicing.pdf import invoice_pdf_filename, render_invoice_pdf
        except ImportError:
            return []  # the customer's invoice page carries the PDF
        return [(invoice_pdf_filename(subject), render_invoice_pdf(subject), "application/pdf")]
    return []


def _raise_flag(rule: Rule, subject: models.Model, order) -> bool:
    if not rule.flag:
        return False
    _, created = QueueFlag.objects.get_or_create(
        kind=rule.flag,
        subject_type=subject._meta.label_lower,
        subject_id=subject.pk,
        defaults={"order": order, "rule": rule},
    )
    return created


# --- event rules -------------------------------------------------------------------------


def run_event_rules(kind: str, subject: models.Model, *, key: str, payload: dict) -> int:
    """Apply every enabled rule triggered by `kind` to `subject`; `key` names the event."""
    order = order_of(subject)
    if order is None:
        return 0
    rules = Rule.objects.filter(enabled=True, trigger=Rule.Trigger.EVENT, event_kind=kind)
    sent = 0
    with mail_after_writes():
        sent = _run_rules(rules, subject, order, key=key, payload=payload)
    return sent


def _run_rules(rules, subject: models.Model, order, *, key: str, payload: dict) -> int:
    sent = 0
    for rule in rules:
        sent += len(
            deliver(rule, subject=subject, order=order, key=f"{key}:r{rule.pk}", payload=payload)
        )
    return sent


# --- sequences of date rules ---------------------------------------------------------------


def _anchor_value(rule: Rule, subject: models.Model):
    field = rule.anchor.split(".", 1)[1]
    return getattr(subject, field, None)


def due_time(rule: Rule, subject: models.Model) -> datetime | None:
    value = _anchor_value(rule, subject)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value + timedelta(days=rule.offset_days)
    day = value + timedelta(days=rule.offset_days)
    return timezone.make_aware(datetime.combine(day, time(SEND_HOUR)))


def start_sequence(subject: models.Model) -> int:
    """Schedule the enabled date rules for `subject` (a sent quote, an issued invoice).

    Steps already sent stay sent; cancelled or paused steps that never went out and are
    still ahead are scheduled again (a dispute resolved, a quote extended), pending ones
    move to the newly computed time. Returns how many steps are pending."""
    label = subject._meta.label_lower
    order = order_of(subject)
    rules = [
        rule
        for rule in Rule.objects.filter(enabled=True, trigger=Rule.Trigger.DATE)
        if rule.subject_type == label
    ]
    pending = 0
    for rule in rules:
        due_at = due_time(rule, subject)
        if due_at is None:
            continue
        row, created = ScheduledAction.objects.select_for_update().get_or_create(
            rule=rule,
            subject_type=label,
            subject_id=subject.pk,
            defaults={"order": order, "due_at": due_at},
        )
        restartable = row.status == ScheduledAction.Status.PENDING or (
            row.status in (ScheduledAction.Status.PAUSED, ScheduledAction.Status.CANCELLED)
            # a step whose day passed while the sequence was stopped is not sent late
            and due_at > timezone.now()
        )
        if not created and restartable:
            row.status = ScheduledAction.Status.PENDING
            row.due_at = due_at
            row.paused_at = None
            row.note = ""
            row.save(update_fields=["status", "due_at", "paused_at", "note"])
        if row.status == ScheduledAction.Status.PENDING:
            pending += 1
    return pending


def _rows(subject_type: str, subject_id: int, *statuses: str):
    return ScheduledAction.objects.select_for_update().filter(
        subject_type=subject_type, subject_id=subject_id, status__in=statuses
    )


def stop_sequence(subject: models.Model, *, reason: str) -> int:
    """Cancel every step of `subject`'s sequences that has not gone out."""
    stopped = 0
    label = subject._meta.label_lower
    for row in _rows(
        label, subject.pk, ScheduledAction.Status.PENDING, ScheduledAction.Status.PAUSED
    ):
        row.status = ScheduledAction.Status.CANCELLED
        row.note = reason[:300]
        row.save(update_fields=["status", "note"])
        stopped += 1
    return stopped


def pause_sequence(subject: models.Model, *, reason: str = "paused") -> int:
    now = timezone.now()
    paused = 0
    for row in _rows(subject._meta.label_lower, subject.pk, ScheduledAction.Status.PENDING):
        row.status = ScheduledAction.Status.PAUSED
        row.paused_at = now
        row.note = reason[:300]
        row.save(update_fields=["status", "paused_at", "note"])
        paused += 1
    return paused


def resume_sequence(subject: models.Model) -> int:
    """Carry on where it stopped: each step moves later by the time spent paused."""
    now = timezone.now()
    resumed = 0
    for row in _rows(subject._meta.label_lower, subject.pk, ScheduledAction.Status.PAUSED):
        paused_for = now - (row.paused_at or now)
        row.due_at = max(row.due_at + paused_for, now)
        row.status = ScheduledAction.Status.PENDING
        row.paused_at = None
        row.note = ""
        row.save(update_fields=["status", "due_at", "paused_at", "note"])
        resumed += 1
    return resumed


def stop_reason(rule: Rule, subject: models.Model | None, order) -> str:
    """Why this step must not go out now ('' if it may). Checked when a step falls due, so
    a sequence stops even if the event that should have stopped it is still on its way."""
    if subject is None or order is None:
        return "its subject no longer exists"
    if not rule.enabled:
        return "the rule was switched off"
    stops = set(rule.stop_when)
    Stop = Rule.Stop
    if Stop.ORDER_LOST in stops and order.status in ("lost", "cancelled"):
        return f"the order is {order.get_status_display().lower()}"
    label = subject._meta.label_lower
    if label == QUOTE:
        by_status = {
            "accepted": Stop.QUOTE_ACCEPTED,
            "declined": Stop.QUOTE_DECLINED,
            "superseded": Stop.QUOTE_SUPERSEDED,
            "expired": Stop.QUOTE_EXPIRED,
        }
        if subject.status in by_status and by_status[subject.status] in stops:
            return f"the quote was {subject.status}"
        if subject.status == "draft":
            return "the quote is not sent"
        if order.status not in ("enquiry", "quoted"):
            # Confirmed without this quote (by phone, say): nobody should chase an answer.
            return f"the order is already {order.get_status_display().lower()}"
    if label == INVOICE:
        if Stop.INVOICE_VOID in stops and subject.status == "void":
            return "the invoice was voided"
        if Stop.INVOICE_PAID in stops and (subject.status == "paid" or subject.outstanding <= 0):
            return "the invoice is paid"
        if Stop.INVOICE_CREDITED in stops and subject.amount_credited > 0:
            return "the invoice was credited"
        if Stop.INVOICE_DISPUTED in stops and subject.disputed:
            return "the invoice is disputed"
    return ""


def _postpone_until(rule: Rule, subject: models.Model) -> datetime | None:
    """A promise to pay pauses payment reminders until the day after the promised date."""
    promise = getattr(subject, "promise_to_pay_date", None)
    if rule.subject_type == INVOICE and promise and promise >= timezone.localdate():
        return timezone.make_aware(datetime.combine(promise + timedelta(days=1), time(SEND_HOUR)))
    return None


def send_due(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """The sweeper: send every step due by `now`, once. Returns how many steps went out."""
    now = now or timezone.now()
    sent = 0
    for _ in range(limit):
        try:
            outcome = _send_next(now)
        except _Failed as failure:
            _note_failure(failure.row_id, failure.error, now)
            continue
        if outcome is None:
            break
        sent += outcome
    return sent


class _Failed(Exception):
    def __init__(self, row_id: int, error: Exception):
        self.row_id = row_id
        self.error = error


def _send_next(now: datetime) -> int | None:
    with transaction.atomic():
        # SKIP LOCKED: concurrent sweeps share the backlog instead of sending a row twice.
        row = (
            ScheduledAction.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("rule")
            .order_by("due_at", "id")
            .first()
        )
        if row is None:
            return None
        try:
            with transaction.atomic():
                return _fire(row, now)
        except Exception as exc:
            raise _Failed(row.pk, exc) from exc


def _fire(row: ScheduledAction, now: datetime) -> int:
    rule = row.rule
    subject = load(row.subject_type, row.subject_id)
    order = order_of(subject) if subject is not None else None
    reason = stop_reason(rule, subject, order)
    if reason:
        row.status = ScheduledAction.Status.CANCELLED
        row.note = f"Stopped: {reason}."
        row.save(update_fields=["status", "note"])
        return 0
    if row.subject_type == QUOTE and subject.followups_paused:
        row.status = ScheduledAction.Status.PAUSED
        row.paused_at = now
        row.note = "Follow-ups paused by the salesperson."
        row.save(update_fields=["status", "paused_at", "note"])
        return 0
    later = _postpone_until(rule, subject)
    if later is not None:
        row.due_at = later
        row.note = f"Waiting for the promise to pay on {subject.promise_to_pay_date:%d %b %Y}."
        row.save(update_fields=["due_at", "note"])
        return 0
    with mail_after_writes():
        deliver(rule, subject=subject, order=order, key=f"s{row.pk}")
        row.status = ScheduledAction.Status.SENT
        row.fired_at = now
        row.attempts += 1
        row.note = ""
        row.save(update_fields=["status", "fired_at", "attempts", "note"])
    return 1


def _note_failure(row_id: int, error: Exception, now: datetime) -> None:
    """A step that failed (mail server down) waits a little and is tried again, up to a cap."""
    logger.warning("Scheduled action %s failed: %s", row_id, error)
    with transaction.atomic():
        row = ScheduledAction.objects.select_for_update().filter(pk=row_id).first()
        if row is None:
            return
        row.attempts += 1
        row.note = f"Failed: {error}"[:300]
        if row.attempts >= MAX_SEND_ATTEMPTS:
            row.status = ScheduledAction.Status.FAILED
        else:
            row.due_at = now + timedelta(minutes=2**row.attempts)
        row.save(update_fields=["attempts", "note", "status", "due_at"])


# --- quote expiry ----------------------------------------------------------------------------


def expire_due_quotes(*, today=None) -> int:
    """Expire every sent quote whose valid-until date has passed while its order still
    waits on it; owners hear through quote.expired. An order confirmed without its quote has
    moved on, so its quote is left alone. Safe to run as often as wanted: an expired quote
    is no longer sent."""
    from orders.models import Order
    from quotes.models import Quote
    from quotes.services import expire_quote

    today = today or timezone.localdate()
    expired = 0
    due = Quote.objects.filter(
        status=Quote.Status.SENT, valid_until__lt=today, order__status=Order.Status.QUOTED
    )
    for quote in due:
        try:
            expire_quote(quote)
        except ValidationError:
            continue  # extended or answered since we looked
        expired += 1
    return expired


# --- the inbox and the rules -------------------------------------------------------------------


def mark_read(notification: Notification, *, by) -> Notification:
    if notification.user_id != by.pk:
        raise ValidationError("That notification is someone else's.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, by) -> int:
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for notification in Notification.objects.select_for_update().filter(
            user=by, read_at__isnull=True
        ):
            notification.read_at = now
            notification.save(update_fields=["read_at"])
            count += 1
    return count


def save_rule(rule: Rule, *, by) -> Rule:
    """Save a manager's change; pending steps of the rule move to its new timing."""
    with transaction.atomic():
        rule.updated_by = by
        rule.save()
        for row in ScheduledAction.objects.select_for_update().filter(
            rule=rule, status=ScheduledAction.Status.PENDING
        ):
            subject = load(row.subject_type, row.subject_id)
            due_at = due_time(rule, subject) if subject is not None and rule.anchor else None
            if due_at is not None and due_at != row.due_at:
                row.due_at = due_at
                row.save(update_fields=["due_at"])
    return rule


def set_rule_enabled(rule: Rule, *, by, enabled: bool) -> Rule:
    """Switch a rule on or off. Off: nothing more goes out under it (checked at send time)."""
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        rule.enabled = enabled
        rule.updated_by = by
        rule.save(update_fields=["enabled", "updated_by", "updated_at"])
    return rule
