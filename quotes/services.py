"""Quote services: the only way a quote changes.

A quote is a priced offer for an order. Every service locks the order first (the aggregate
root), then the quote, so concurrent actions queue up instead of deadlocking. Sending a quote
snapshots the order's lines and moves the order to quoted; accepting confirms the order;
declining loses it. Emails, PDFs and follow-ups happen after commit, through the outbox
(quote.sent, quote.accepted, quote.declined, quote.expired...). `by=None` means the customer
(through a link) or an automation acted.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from oms.accounts.roles import Role, has_role
from oms.outbox.publish import publish
from orders.models import Order, TimelineEvent
from orders.services import (
    OrderChanged,
    confirm_order,
    ensure_not_on_hold,
    lock_order,
    lose_order,
    record,
    set_order_lines,
    transition_order,
)
from quotes.models import Quote

# Quotes that are still live offers: sending a new version supersedes them.
LIVE_STATES = (Quote.Status.DRAFT, Quote.Status.SENT, Quote.Status.EXPIRED)


def _lock(quote: Quote) -> tuple[Order, Quote]:
    """Lock the order, then the quote; a caller holding a stale quote gets OrderChanged."""
    order = lock_order(quote.order_id)
    locked = Quote.objects.select_for_update(no_key=True).get(pk=quote.pk)
    if quote.status != locked.status:
        raise OrderChanged(order)
    locked.order = order
    return order, locked


def _ensure_sales(by, doing: str) -> None:
    if by is not None and not has_role(by, Role.SALES):
        raise PermissionDenied(f"Your role may not {doing}.")


def _ensure_quotable(order: Order, doing: str) -> None:
    ensure_not_on_hold(order, doing)
    if order.status not in (Order.Status.ENQUIRY, Order.Status.QUOTED):
        raise ValidationError(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot {doing} any more."
        )


def _refuse(quote: Quote, doing: str) -> ValidationError:
    return ValidationError(
        f"Quote {quote.reference} is {quote.get_status_display().lower()}; it cannot {doing}."
    )


def create_quote(
    order: Order,
    *,
    by,
    valid_until: date | None = None,
    terms: str = "",
    notes: str = "",
) -> Quote:
    """A new draft quote for the order, numbered as the next version. Valid for
    QUOTE_VALIDITY_DAYS unless told otherwise."""
    _ensure_sales(by, "prepare quotes")
    today = timezone.localdate()
    valid_until = valid_until or today + timedelta(days=settings.QUOTE_VALIDITY_DAYS)
    if valid_until < today:
        raise ValidationError("A quote cannot be valid until a date in the past.")
    with transaction.atomic():
        order = lock_order(order)
        _ensure_quotable(order, "be quoted")
        version = (order.quotes.aggregate(last=Max("version"))["last"] or 0) + 1
        quote = Quote.objects.create(
            order=order, version=version, valid_until=valid_until, terms=terms, notes=notes
        )
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Quote {quote.reference} drafted.",
            quote=quote.pk,
        )
        publish("quote.drafted", subject=quote, actor=by, version=version)
    return quote


def send_quote(quote: Quote, *, by, to: str = "") -> Quote:
    """Freeze the order's lines and totals into the quote and offer it to the customer.
    Earlier live versions are superseded; the order moves to quoted. The email with the PDF
    goes out after commit through quote.sent."""
    with transaction.atomic():
        order, quote = _lock(quote)
        if quote.status != Quote.Status.DRAFT:
            raise _refuse(quote, "be sent again; revise it to send a new version")
        _ensure_quotable(order, "be quoted")
        lines = list(order.lines.all())
        if not lines:
            raise ValidationError(f"Add at least one line to {order.number} before quoting.")
        if quote.valid_until < timezone.localdate():
            raise ValidationError(
                f"Quote {quote.reference} was valid until {quote.valid_until:%d %b %Y}; "
                "choose a later date before sending."
            )
        to = (to or _customer_email(order)).strip()
        superseded = []
        for earlier in (
            order.quotes.select_for_update(no_key=True)
            .filter(status__in=LIVE_STATES)
            .exclude(pk=quote.pk)
        ):
            earlier.supersede()
            earlier.save()
            superseded.append(earlier.version)
        quote.lines_snapshot = [_snapshot(line) for line in lines]
        quote.net_total = order.net_total
        quote.tax_total = order.tax_total
        quote.gross_total = order.gross_total
        quote.send(to=to)
        quote.save()
        message = f"Quote {quote.reference} sent" + (f" to {to}." if to else ".")
        if superseded:
            message += " Replaces " + ", ".join(f"version {v}" for v in superseded) + "."
        quote.order = transition_order(
            order,
            "send_quote",
            by=by,
            message=message,
            event_payload={"quote": quote.pk, "version": quote.version},
            details={"quote": quote.pk, "superseded": superseded},
        )
        publish(
            "quote.sent",
            subject=quote,
            actor=by,
            to=to,
            version=quote.version,
            superseded=superseded,
            gross_total=str(quote.gross_total),
        )
    return quote


def _customer_email(order: Order) -> str:
    contact = order.customer.contact("primary")
    return contact.email if contact else ""


def _snapshot(line) -> dict:
    return {
        "product": line.product_id,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "discount_percent": str(line.discount_percent),
        "tax_rate": str(line.tax_rate),
        "net_amount": str(line.net_amount),
        "tax_amount": str(line.tax_amount),
    }


def accept_quote(quote: Quote, *, by=None, name: str, ip: str | None = None, po: str = "") -> Quote:
    """The customer accepted this version: the order is confirmed on exactly the quoted
    lines, with the acceptance (name, IP, PO) kept. Refused for an expired or superseded
    quote. Operations hear of it through order.confirmed; the customer gets a thank-you
    through quote.accepted."""
    name = (name or "").strip()
    po = (po or "").strip()
    if not name:
        raise ValidationError("Give the name of the person accepting the quote.")
    with transaction.atomic():
        order, quote = _lock(quote)
        if by is not None and not has_role(by, Role.SALES):
            raise PermissionDenied("Your role may not accept quotes for customers.")
        _ensure_acceptable(order, quote)
        quote.accept(name=name, ip=ip, po=po)
        quote.save()
        if _lines_differ(order, quote):
            # The customer agreed to the snapshot, not to later edits of the order.
            order = set_order_lines(order, _lines_from_snapshot(quote), by=None, automation="quote")
        if po and not order.po_reference:
            order.po_reference = po
            order.save(update_fields=["po_reference", "updated_at"])
        quote.order = confirm_order(
            order,
            by=by,
            automation="" if by else "customer",
            message=f"Quote {quote.reference} accepted by {name}" + (f", PO {po}." if po else "."),
        )
        publish(
            "quote.accepted",
            subject=quote,
            actor=by,
            name=name,
            po=po,
            version=quote.version,
        )
    return quote


def _ensure_acceptable(order: Order, quote: Quote) -> None:
    if quote.status == Quote.Status.SUPERSEDED:
        latest = order.quotes.exclude(pk=quote.pk).order_by("-version").first()
        newer = f" by version {latest.version}" if latest else ""
        raise ValidationError(
            f"Quote {quote.reference} has been replaced{newer}; only the latest quote can "
            "be accepted."
        )
    today = timezone.localdate()
    if quote.status == Quote.Status.EXPIRED or (
        quote.status == Quote.Status.SENT and quote.valid_until < today
    ):
        raise ValidationError(
            f"Quote {quote.reference} expired on {quote.valid_until:%d %b %Y} and can no "
            "longer be accepted; ask us for an updated quote."
        )
    if quote.status != Quote.Status.SENT:
        raise _refuse(quote, "be accepted")
    ensure_not_on_hold(order, "be confirmed")
    if order.status != Order.Status.QUOTED:
        raise ValidationError(
            f"Order {order.number} is {order.get_status_display().lower()}; the quote can no "
            "longer be accepted."
        )


def _lines_differ(order: Order, quote: Quote) -> bool:
    current = [_snapshot(line) for line in order.lines.all()]
    return current != quote.lines_snapshot


def _lines_from_snapshot(quote: Quote) -> list[dict]:
    return [
        {
            "product": line["product"],
            "description": line["description"],
            "quantity": Decimal(line["quantity"]),
            "unit": line["unit"],
            "unit_price": Decimal(line["unit_price"]),
            "discount_percent": Decimal(line["discount_percent"]),
            "tax_rate": Decimal(line["tax_rate"]),
        }
        for line in quote.lines_snapshot
    ]


def decline_quote(quote: Quote, *, by=None, reason: str = "") -> Quote:
    """The customer said no: the quote is declined and the order lost, with the reason.
    Follow-ups stop; sales hear of it through quote.declined."""
    reason = (reason or "").strip()
    with transaction.atomic():
        order, quote = _lock(quote)
        if by is not None and not has_role(by, Role.SALES):
            raise PermissionDenied("Your role may not decline quotes for customers.")
        if quote.status != Quote.Status.SENT:
            raise _refuse(quote, "be declined")
        quote.decline(reason=reason)
        quote.save()
        message = f"Quote {quote.reference} declined" + (f": {reason}" if reason else ".")
        if order.status == Order.Status.LOST:
            # Already closed by sales; the customer's answer is still worth keeping.
            record(order, kind=TimelineEvent.Kind.COMMUNICATION, by=by, message=message)
        else:
            quote.order = lose_order(
                order, by=by, automation="" if by else "customer", reason=message
            )
        publish("quote.declined", subject=quote, actor=by, reason=reason, version=quote.version)
    return quote


def expire_quote(quote: Quote) -> Quote:
    """The validity date passed without an answer (run by the daily sweep). The order stays
    quoted so sales can extend, revise or mark it lost; they hear of it through
    quote.expired."""
    with transaction.atomic():
        order, quote = _lock(quote)
        if quote.status != Quote.Status.SENT:
            raise _refuse(quote, "expire")
        if quote.valid_until >= timezone.localdate():
            raise ValidationError(
                f"Quote {quote.reference} is valid until {quote.valid_until:%d %b %Y}; "
                "it has not expired."
            )
        quote.expire()
        quote.save()
        record(
            order,
            kind=TimelineEvent.Kind.SYSTEM,
            automation="quote expiry",
            message=f"Quote {quote.reference} expired unanswered.",
            quote=quote.pk,
        )
        publish("quote.expired", subject=quote, version=quote.version)
    return quote


def extend_quote(quote: Quote, *, by, valid_until: date) -> Quote:
    """Give the customer longer to decide; an expired quote becomes live again."""
    _ensure_sales(by, "extend quotes")
    if valid_until < timezone.localdate():
        raise ValidationError("A quote cannot be extended to a date in the past.")
    with transaction.atomic():
        order, quote = _lock(quote)
        _ensure_quotable(order, "have its quote extended")
        previous = quote.valid_until
        if quote.status == Quote.Status.EXPIRED:
            quote.extend(valid_until=valid_until)
        elif quote.status in (Quote.Status.SENT, Quote.Status.DRAFT):
            quote.valid_until = valid_until
        else:
            raise _refuse(quote, "be extended")
        quote.save()
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Quote {quote.reference} extended to {valid_until:%d %b %Y}.",
            quote=quote.pk,
            previous_valid_until=previous.isoformat(),
        )
        publish(
            "quote.extended",
            subject=quote,
            actor=by,
            valid_until=valid_until.isoformat(),
            version=quote.version,
        )
    return quote


def revise_quote(quote: Quote, *, by) -> Quote:
    """Start the next version from this one (same terms and notes, fresh validity). The
    older versions are superseded when the new one is sent."""
    with transaction.atomic():
        order, quote = _lock(quote)
        if quote.status in (Quote.Status.ACCEPTED, Quote.Status.DRAFT):
            raise _refuse(quote, "be revised")
        draft = order.quotes.filter(status=Quote.Status.DRAFT).exclude(pk=quote.pk).first()
        if draft is not None:
            raise ValidationError(
                f"Quote {draft.reference} is already a draft; edit and send that one."
            )
        return create_quote(order, by=by, terms=quote.terms, notes=quote.notes)


def pause_quote_followups(quote: Quote, *, by) -> Quote:
    """Stop the automatic follow-up emails for this quote (the customer asked for time)."""
    return _set_followups(quote, by=by, paused=True)


def resume_quote_followups(quote: Quote, *, by) -> Quote:
    """Let the automatic follow-ups carry on."""
    return _set_followups(quote, by=by, paused=False)


def _set_followups(quote: Quote, *, by, paused: bool) -> Quote:
    _ensure_sales(by, "change quote follow-ups")
    with transaction.atomic():
        order, quote = _lock(quote)
        if quote.followups_paused == paused:
            return quote
        quote.followups_paused = paused
        quote.save(update_fields=["followups_paused"])
        word = "paused" if paused else "resumed"
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Follow-ups for quote {quote.reference} {word}.",
            quote=quote.pk,
        )
        publish(f"quote.followups_{word}", subject=quote, actor=by, version=quote.version)
    return quote


def resend_quote(quote: Quote, *, by, to: str = "") -> Quote:
    """Email the same sent quote again (lost in a spam folder, or to another contact); the
    offer itself does not change. The email goes out after commit through quote.resent."""
    _ensure_sales(by, "send quotes")
    with transaction.atomic():
        order, quote = _lock(quote)
        if quote.status != Quote.Status.SENT:
            raise _refuse(quote, "be sent again")
        if quote.valid_until < timezone.localdate():
            raise ValidationError(
                f"Quote {quote.reference} expired on {quote.valid_until:%d %b %Y}; extend or "
                "revise it before sending it again."
            )
        to = (to or quote.sent_to or _customer_email(order)).strip()
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Quote {quote.reference} sent again" + (f" to {to}." if to else "."),
            quote=quote.pk,
        )
        publish("quote.resent", subject=quote, actor=by, to=to, version=quote.version)
    return quote
