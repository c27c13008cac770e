"""Order services: the only way an order changes.

Every write follows one rhythm: lock the order row, check permission and rules, transition,
save, record a timeline event, publish an outbox event. Effects (emails, invoice drafting,
sync) happen after commit, through the outbox. `by=None` means an automation acted.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from customers.models import Customer
from oms import money
from oms.accounts.roles import Role, has_role
from oms.numbering.models import allocate_number
from oms.outbox.publish import publish
from orders.models import Order, OrderLine, Product, TimelineEvent


class OrderChanged(Exception):
    """Someone else changed this order first; the user should reload and try again."""

    def __init__(self, order: Order | None = None):
        self.order = order
        super().__init__("This order changed while you were working on it. Reload and try again.")


# Each transition's event name, in the lifecycle's own words.
TRANSITION_EVENTS = {
    "send_quote": "order.quoted",
    "confirm": "order.confirmed",
    "lose": "order.lost",
    "reopen": "order.reopened",
    "start_work": "order.started",
    "hold": "order.held",
    "resume": "order.resumed",
    "deliver": "order.delivered",
    "rework": "order.reworked",
    "mark_invoiced": "order.invoiced",
    "mark_paid": "order.paid",
    "reopen_billing": "order.billing_reopened",
    "cancel": "order.cancelled",
}


# --- the parts of the rhythm ------------------------------------------------------


def lock_order(order: Order | int) -> Order:
    """Lock the order row for the rest of the transaction (the aggregate root lock).

    NO KEY UPDATE lets other transactions keep inserting rows that point at this order
    (timeline, lines) while we hold it. A caller holding a stale copy gets OrderChanged.
    """
    order_id = order if isinstance(order, int) else order.pk
    locked = Order.objects.select_for_update(no_key=True).get(pk=order_id)
    if isinstance(order, Order) and order.status != locked.status:
        raise OrderChanged(locked)
    return locked


def describe_refusal(order: Order, name: str) -> str:
    """A sentence naming the current state and the steps that are allowed from it."""
    available = sorted(
        (t for t in order.get_available_status_transitions() if not t.custom.get("automatic")),
        key=lambda t: list(TRANSITION_EVENTS).index(t.name),
    )
    allowed = [t.custom.get("label", t.name) for t in available]
    label = Order.Status(order.status).label.lower()
    if order.is_on_hold and order.hold_reason:
        label = f"{label} ({order.hold_reason})"
    next_steps = ", ".join(allowed) if allowed else "none, the order is closed"
    return (
        f"Order {order.number} is {label}, so '{_label(order, name)}' is not possible. "
        f"Allowed next steps: {next_steps}."
    )


def _label(order: Order, name: str) -> str:
    """The button text of transition `name` ("Confirm order"), or its name spelt out."""
    meta = getattr(getattr(type(order), name, None), "_django_fsm", None)
    for transition in meta.transitions.values() if meta is not None else ():
        if transition.custom.get("label"):
            return transition.custom["label"]
    return name.replace("_", " ").capitalize()


def _verb(order: Order, name: str) -> str:
    return _label(order, name).lower()


def ensure_transition(order: Order, method: Callable, by) -> None:
    """Refuse, with a sentence a user can read, a transition not allowed now or not for `by`."""
    name = method.__name__
    if not can_proceed(method):
        raise ValidationError(describe_refusal(order, name))
    if by is not None and not has_transition_perm(method, by):
        raise PermissionDenied(
            f"Your role may not do '{_label(order, name)}' on order {order.number}."
        )


def ensure_not_on_hold(order: Order, doing: str) -> None:
    """A hold really holds: nothing is delivered, invoiced or changed while it lasts.

    Other apps (invoicing) call this after locking the order, before they write.
    """
    if order.is_on_hold:
        why = f" ({order.hold_reason})" if order.hold_reason else ""
        resume = (
            f" It is expected to resume on {order.hold_resume_date:%d %b %Y}."
            if order.hold_resume_date
            else ""
        )
        raise ValidationError(
            f"Order {order.number} is on hold{why}; it cannot {doing} until it resumes.{resume}"
        )


def record(
    order: Order,
    *,
    kind: str,
    by=None,
    automation: str = "",
    message: str = "",
    from_state: str = "",
    to_state: str = "",
    **details: Any,
) -> TimelineEvent:
    """Append an event to the order's timeline; `by=None` names the automation instead."""
    return TimelineEvent.objects.create(
        order=order,
        kind=kind,
        actor=by,
        automation="" if by else (automation or "automation"),
        from_state=from_state,
        to_state=to_state,
        message=message,
        details=details,
    )


def transition_order(
    order: Order,
    name: str,
    *,
    by,
    reason: str = "",
    automation: str = "",
    message: str = "",
    event_payload: dict | None = None,
    details: dict | None = None,
    **kwargs: Any,
) -> Order:
    """Run transition `name` with the one rhythm: lock, check, transition, save, record,
    publish. Every named service below is this with its own arguments. Transitions that
    need a reason (lose, hold, rework, cancel) receive it too; `message` is the timeline
    text when it should say more than the reason."""
    if name not in TRANSITION_EVENTS:
        raise ValueError(f"Unknown order transition: {name}")
    reason = (reason or "").strip()
    with transaction.atomic():
        order = lock_order(order)
        method = getattr(order, name)
        ensure_transition(order, method, by)
        _check_rules(order, name)
        source = order.status
        if _needs_reason(order, name):
            if not reason:
                raise ValidationError(f"Give a reason to {_verb(order, name)}.")
            kwargs["reason"] = reason
        try:
            method(**kwargs)
            order.save()
        except ConcurrentTransition as exc:
            raise OrderChanged() from exc
        record(
            order,
            kind=TimelineEvent.Kind.TRANSITION,
            by=by,
            automation=automation,
            from_state=source,
            to_state=order.status,
            message=message or reason,
            **(details or {}),
        )
        publish(
            TRANSITION_EVENTS[name],
            subject=order,
            actor=by,
            from_state=source,
            to_state=order.status,
            reason=reason,
            **(event_payload or {}),
        )
    return order


# Invoice states in which money is still owed; named as strings so orders does not import
# invoicing (which sits above it).
UNSETTLED_INVOICE_STATES = ("approved", "sent", "part_paid")


def _check_rules(order: Order, name: str) -> None:
    """Cross-row rules of a transition, checked under the order lock."""
    if name == "cancel":
        unsettled = (
            order.invoices.filter(status__in=UNSETTLED_INVOICE_STATES)
            .exclude(kind="credit_note")
            .order_by("number")
            .values_list("number", flat=True)
        )
        if unsettled:
            raise ValidationError(
                f"Order {order.number} has unsettled invoices ({', '.join(unsettled)}); "
                "credit or settle them before cancelling."
            )
    if name == "deliver" and not order.lines.exists():
        raise ValidationError(f"Order {order.number} has no lines to deliver.")


def _needs_reason(order: Order, name: str) -> bool:
    transition = getattr(order, name)._django_fsm.get_transition(order.status)
    return bool(transition and transition.custom.get("needs_reason"))


# --- creating orders ----------------------------------------------------------------


def next_order_number() -> str:
    year = timezone.localdate().year
    return f"ORD-{year}-{allocate_number('ORD', year):05d}"


def create_enquiry(*, customer: Customer, title: str, by, owner=None, **fields: Any) -> Order:
    """A customer asked for something: the order begins at enquiry, owned by a salesperson."""
    with transaction.atomic():
        order = Order.objects.create(
            number=next_order_number(),
            customer=customer,
            title=title,
            owner=owner or by,
            currency=customer.currency,
            delivery_address=fields.pop("delivery_address", "") or customer.delivery_address,
            **fields,
        )
        record(
            order,
            kind=TimelineEvent.Kind.TRANSITION,
            by=by,
            to_state=order.status,
            message="Enquiry captured.",
        )
        publish("order.created", subject=order, actor=by)
    return order


# --- one service per transition ------------------------------------------------------


def confirm_order(
    order: Order, *, by, reason: str = "", automation: str = "", message: str = ""
) -> Order:
    """The customer said yes; operations hear of it through order.confirmed."""
    return transition_order(
        order, "confirm", by=by, reason=reason, automation=automation, message=message
    )


def lose_order(order: Order, *, by, reason: str, automation: str = "") -> Order:
    """Declined, expired or closed; follow-ups stop. A reason is required."""
    return transition_order(order, "lose", by=by, reason=reason, automation=automation)


def reopen_order(order: Order, *, by, reason: str = "") -> Order:
    """The customer came back: the order is an enquiry again."""
    return transition_order(order, "reopen", by=by, reason=reason)


def start_work(order: Order, *, by, reason: str = "") -> Order:
    """Operations begin; the customer is told work has started."""
    return transition_order(order, "start_work", by=by, reason=reason)


def hold_order(order: Order, *, by, reason: str, resume_date: date | None = None) -> Order:
    """Work pauses; nothing is delivered, invoiced or changed until it resumes. The owner
    is told through order.held."""
    if resume_date is not None and resume_date < timezone.localdate():
        raise ValidationError("The expected resume date cannot be in the past.")
    return transition_order(
        order,
        "hold",
        by=by,
        reason=reason,
        resume_date=resume_date,
        event_payload={"resume_date": resume_date.isoformat() if resume_date else ""},
        details={"resume_date": resume_date.isoformat() if resume_date else ""},
    )


def resume_order(order: Order, *, by, reason: str = "") -> Order:
    """Back to the stage the order was held from."""
    return transition_order(order, "resume", by=by, reason=reason)


def deliver_order(
    order: Order,
    *,
    by,
    reason: str = "",
    automation: str = "",
    proof: str = "",
    received_by: str = "",
) -> Order:
    """Work done or goods shipped, with proof of delivery (who received it, a signature or
    tracking reference). Every line counts as fully delivered. Finance gets a draft invoice
    through order.delivered."""
    proof = (proof or "").strip()
    received_by = (received_by or "").strip()
    with transaction.atomic():
        order = transition_order(
            order,
            "deliver",
            by=by,
            reason=reason,
            automation=automation,
            message=reason or _delivery_message(proof, received_by),
            event_payload={"proof": proof, "received_by": received_by},
            details={"proof": proof, "received_by": received_by},
        )
        order.delivery_proof = proof
        order.delivered_to = received_by
        order.save(update_fields=["delivery_proof", "delivered_to", "updated_at"])
        order.lines.update(delivered_quantity=F("quantity"))
    return order


def _delivery_message(proof: str, received_by: str) -> str:
    parts = []
    if received_by:
        parts.append(f"Received by {received_by}.")
    if proof:
        parts.append(f"Proof: {proof}")
    return " ".join(parts) or "Delivered."


def rework_order(order: Order, *, by, reason: str) -> Order:
    """The delivery was rejected: back to work, with the reason on the timeline. The proof
    of delivery no longer stands and nothing counts as delivered until it is redone."""
    with transaction.atomic():
        order = transition_order(order, "rework", by=by, reason=reason)
        order.delivery_proof = ""
        order.delivered_to = ""
        order.save(update_fields=["delivery_proof", "delivered_to", "updated_at"])
        order.lines.update(delivered_quantity=Decimal("0"))
    return order


def cancel_order(order: Order, *, by, reason: str) -> Order:
    """Managers only; refused while the order has unsettled invoices. Operations and the
    customer hear of it through order.cancelled."""
    return transition_order(order, "cancel", by=by, reason=reason)


# --- changing an order -----------------------------------------------------------------

# Details anyone working the order may edit while it is open and not on hold.
EDITABLE_FIELDS = (
    "title",
    "kind",
    "source",
    "specification",
    "delivery_address",
    "requested_date",
    "agreed_date",
    "special_instructions",
    "po_reference",
    "metadata",
    "assignee",
    "owner",
)


def _ensure_may_edit(order: Order, by, doing: str) -> None:
    if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS):
        raise PermissionDenied(f"Your role may not {doing} orders.")
    ensure_not_on_hold(order, doing)
    if order.is_closed:
        raise ValidationError(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot {doing} any more."
        )


def update_order(order: Order, *, by, automation: str = "", **fields: Any) -> Order:
    """Change an order's details (title, dates, addresses, PO, assignee...). Refused while
    on hold or closed; each change is written to the timeline with old and new values."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable through update_order: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        order = lock_order(order)
        _ensure_may_edit(order, by, "change")
        changes: dict[str, list] = {}
        for name, value in fields.items():
            old = getattr(order, name)
            if old != value:
                changes[name] = [_plain(old), _plain(value)]
                setattr(order, name, value)
        if not changes:
            return order
        order.save(update_fields=[*changes.keys(), "updated_at"])
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            automation=automation,
            message="Changed " + ", ".join(name.replace("_", " ") for name in changes) + ".",
            changes=changes,
        )
        publish("order.changed", subject=order, actor=by, fields=sorted(changes))
    return order


def _plain(value: Any) -> Any:
    """A JSON-safe rendering of a field value for the timeline."""
    if value is None or isinstance(value, str | int | bool | dict | list):
        return value
    return str(value)


def set_order_lines(order: Order, lines: list[dict], *, by, automation: str = "") -> Order:
    """Replace the order's lines and recompute its totals (tax per line, half up).

    Each dict: description, quantity, unit_price, and optionally product (instance or id),
    unit, discount_percent, tax_rate; a product fills in what is left out. Refused once the
    order is confirmed or on hold: the customer agreed to these lines.
    """
    with transaction.atomic():
        order = lock_order(order)
        if by is not None and not has_role(by, Role.SALES):
            raise PermissionDenied("Your role may not change order lines.")
        ensure_not_on_hold(order, "have its lines changed")
        if not order.lines_editable:
            raise ValidationError(
                f"Order {order.number} is {order.get_status_display().lower()}; its lines "
                "can no longer be changed."
            )
        current = list(order.lines.all())
        previous = [_line_summary(line) for line in current]
        # An archived product may stay on an order that already has it, not be newly added.
        kept = {line.product_id for line in current if line.product_id}
        new_lines = [
            _build_line(order, position, data, kept) for position, data in enumerate(lines)
        ]
        order.lines.all().delete()
        OrderLine.objects.bulk_create(new_lines)
        _set_totals(order, new_lines)
        order.save(update_fields=["net_total", "tax_total", "gross_total", "updated_at"])
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            automation=automation,
            message=f"Lines updated: {len(new_lines)} line(s), total {order.gross_total}.",
            previous_lines=previous,
            lines=[_line_summary(line) for line in new_lines],
            net_total=str(order.net_total),
            tax_total=str(order.tax_total),
            gross_total=str(order.gross_total),
        )
        publish(
            "order.lines_changed",
            subject=order,
            actor=by,
            gross_total=str(order.gross_total),
            line_count=len(new_lines),
        )
    return order


def _decimal(data: dict, key: str, default: Any = None) -> Decimal:
    value = data.get(key, default)
    if value is None or value == "":
        raise ValidationError(f"Each line needs a {key.replace('_', ' ')}.")
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not a valid {key.replace('_', ' ')}.") from exc


def _build_line(order: Order, position: int, data: dict, kept: set[int]) -> OrderLine:
    product = data.get("product")
    if product is not None and not isinstance(product, Product):
        product = Product.objects.filter(pk=product).first()
        if product is None:
            raise ValidationError("A line names a product that does not exist.")
    if product is not None and not product.active and product.pk not in kept:
        raise ValidationError(f"{product} is archived and cannot be added to an order.")
    description = (data.get("description") or (product.name if product else "")).strip()
    if not description:
        raise ValidationError("Each line needs a description.")
    quantity = _decimal(data, "quantity")
    unit_price = _decimal(data, "unit_price", product.unit_price if product else None)
    discount = _decimal(data, "discount_percent", Decimal("0"))
    tax_rate = _decimal(data, "tax_rate", product.tax_rate if product else Decimal("20"))
    if quantity <= 0:
        raise ValidationError(f"The quantity of '{description}' must be more than zero.")
    if unit_price < 0:
        raise ValidationError(f"The unit price of '{description}' cannot be negative.")
    if not Decimal("0") <= discount <= Decimal("100"):
        raise ValidationError(f"The discount on '{description}' must be between 0 and 100%.")
    if tax_rate < 0:
        raise ValidationError(f"The tax rate of '{description}' cannot be negative.")
    line = OrderLine(
        order=order,
        position=position,
        product=product,
        description=description[:500],
        quantity=quantity.quantize(Decimal("0.001")),
        unit=(data.get("unit") or (product.unit if product else "each"))[:16],
        unit_price=money.to_money(unit_price),
        discount_percent=discount.quantize(Decimal("0.01")),
        tax_rate=tax_rate.quantize(Decimal("0.01")),
    )
    line.compute_amounts()
    return line


def _set_totals(order: Order, lines: list[OrderLine]) -> None:
    """Order totals are the sums of the rounded line amounts, so they match Xero's."""
    order.net_total = sum((line.net_amount for line in lines), money.ZERO)
    order.tax_total = sum((line.tax_amount for line in lines), money.ZERO)
    order.gross_total = order.net_total + order.tax_total


def _line_summary(line: OrderLine) -> dict[str, Any]:
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


def record_delivery(order: Order, quantities: dict[int, Decimal], *, by) -> Order:
    """Part of the order went out: set delivered quantities per line (line id -> quantity
    delivered so far). Refused on hold; the order page shows the delivered share."""
    with transaction.atomic():
        order = lock_order(order)
        if by is not None and not has_role(by, Role.OPERATIONS):
            raise PermissionDenied("Your role may not record deliveries.")
        ensure_not_on_hold(order, "be delivered")
        if order.status != Order.Status.IN_PROGRESS:
            raise ValidationError(
                f"Order {order.number} is {order.get_status_display().lower()}; deliveries "
                "are recorded while work is in progress."
            )
        lines = {line.pk: line for line in order.lines.all()}
        changed = {}
        for line_id, quantity in quantities.items():
            line = lines.get(int(line_id))
            if line is None:
                raise ValidationError("A delivery names a line that is not on this order.")
            quantity = Decimal(quantity)
            if not Decimal("0") <= quantity <= line.quantity:
                raise ValidationError(
                    f"Delivered quantity of '{line.description}' must be between 0 and "
                    f"{line.quantity}."
                )
            if quantity != line.delivered_quantity:
                line.delivered_quantity = quantity
                line.save(update_fields=["delivered_quantity"])
                changed[line.description] = str(quantity)
        if changed:
            record(
                order,
                kind=TimelineEvent.Kind.CHANGE,
                by=by,
                message="Delivery recorded: "
                + ", ".join(f"{name} {qty}" for name, qty in changed.items()),
                delivered=changed,
            )
            publish("order.delivery_recorded", subject=order, actor=by, delivered=changed)
    return order


def add_note(order: Order, *, by, message: str) -> TimelineEvent:
    """A note on the order's timeline; allowed in any state, even on hold or closed."""
    message = (message or "").strip()
    if not message:
        raise ValidationError("A note cannot be empty.")
    if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS, Role.FINANCE):
        raise PermissionDenied("Your role may not add notes to orders.")
    with transaction.atomic():
        order = lock_order(order.pk)
        return record(order, kind=TimelineEvent.Kind.NOTE, by=by, message=message)


# --- the catalogue -----------------------------------------------------------------------


def archive_product(product: Product, *, by) -> Product:
    """Take a product out of the catalogue; orders that use it keep it. Never deleted."""
    _ensure_catalogue_role(by)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        if product.active:
            product.active = False
            product.archived_at = timezone.now()
            product.save(update_fields=["active", "archived_at"])
            publish("product.archived", subject=product, actor=by)
    return product


def restore_product(product: Product, *, by) -> Product:
    """Put an archived product back in the catalogue."""
    _ensure_catalogue_role(by)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        if not product.active:
            product.active = True
            product.archived_at = None
            product.save(update_fields=["active", "archived_at"])
            publish("product.restored", subject=product, actor=by)
    return product


def _ensure_catalogue_role(by) -> None:
    if by is not None and not has_role(by, Role.SALES, Role.FINANCE):
        raise PermissionDenied("Your role may not change the catalogue.")
