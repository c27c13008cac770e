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


# --- operations: assignment, deliveries, proof, field visits -----------------------------


def _ensure_operations(by, doing: str) -> None:
    if by is not None and not has_role(by, Role.OPERATIONS):
        raise PermissionDenied(f"Your role may not {doing}.")


WORK_STATES = (Order.Status.CONFIRMED, Order.Status.IN_PROGRESS, Order.Status.ON_HOLD)


def assign_order(order: Order, *, by, assignee) -> Order:
    """Give a confirmed order to someone in operations (or take it off them with None).
    The change and the old and new assignee are written to the timeline."""
    with transaction.atomic():
        order = lock_order(order)
        _ensure_operations(by, "assign orders")
        if order.status not in WORK_STATES:
            raise ValidationError(
                f"Order {order.number} is {order.get_status_display().lower()}; only confirmed, "
                "in-progress or held orders are assigned."
            )
        if assignee is not None and not has_role(assignee, Role.OPERATIONS):
            raise ValidationError(f"{assignee} is not in operations.")
        if order.assignee_id == (assignee.pk if assignee else None):
            return order
        before = str(order.assignee) if order.assignee_id else ""
        order.assignee = assignee
        order.save(update_fields=["assignee", "updated_at"])
        after = str(assignee) if assignee else ""
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Assigned to {after}." if after else "Unassigned.",
            changes={"assignee": [before, after]},
        )
        publish(
            "order.assigned", subject=order, actor=by, assignee=assignee.pk if assignee else None
        )
    return order


def set_production_run(order: Order, *, by, run_date: date | None, status: str) -> Order:
    """A manufacturing order's production run: its date and status (planned, running,
    complete), kept in the order's metadata and shown in the queue."""
    if status not in PRODUCTION_STATUSES:
        raise ValidationError(f"{status!r} is not a production run status.")
    with transaction.atomic():
        order = lock_order(order)
        _ensure_operations(by, "plan production")
        metadata = dict(order.metadata or {})
        metadata["production_run"] = {
            "date": run_date.isoformat() if run_date else "",
            "status": status,
        }
        return update_order(order, by=by, metadata=metadata)


PRODUCTION_STATUSES = ("planned", "running", "complete")


def record_line_delivery(
    order: Order, quantities: dict[int, Decimal], *, by, received_by: str = "", notes: str = ""
) -> Order:
    """Goods went out, perhaps in part: set the delivered quantity per line. When every line
    is fully delivered the order is delivered, with proof naming who received it."""
    with transaction.atomic():
        order = record_delivery(order, quantities, by=by)
        lines = list(order.lines.all())
        if lines and all(line.delivered_quantity >= line.quantity for line in lines):
            record_proof_of_delivery(
                order, by=by, signer_name=received_by or "Not recorded", notes=notes
            )
            order.refresh_from_db()
    return order


def _store_image(order: Order, *, by, data: bytes, name: str, kind: str, proof=None):
    from django.conf import settings
    from django.core.files.base import ContentFile

    from oms.uploads import check_image
    from orders.models import OrderAttachment

    checked = check_image(data, limit=settings.ORDER_UPLOAD_MAX_BYTES)
    attachment = OrderAttachment(
        order=order,
        proof=proof,
        kind=kind,
        original_name=(name or "")[:200],
        content_type=checked.content_type,
        size=len(data),
        uploaded_by=by,
    )
    # The stored name is random; only the suffix comes from the detected format.
    attachment.file.save(f"upload{checked.suffix}", ContentFile(data), save=False)
    attachment.save()
    return attachment


def add_order_photo(order: Order, *, by, data: bytes, name: str = ""):
    """A photo from the job (before, after, damage): images only, size-limited, stored under
    a random name and served only to people who may see the order."""
    from orders.models import OrderAttachment

    with transaction.atomic():
        order = lock_order(order)
        _ensure_operations(by, "add photos to orders")
        if order.is_closed:
            raise ValidationError(f"Order {order.number} is closed.")
        attachment = _store_image(
            order, by=by, data=data, name=name, kind=OrderAttachment.Kind.PHOTO
        )
        record(
            order,
            kind=TimelineEvent.Kind.NOTE,
            by=by,
            message=f"Photo added: {attachment.original_name or 'photo'}.",
            attachment=attachment.pk,
        )
    return attachment


def record_proof_of_delivery(
    order: Order,
    *,
    by,
    signer_name: str,
    notes: str = "",
    signature: bytes | None = None,
    automation: str = "",
):
    """Delivering with proof: who, when, the signer or recipient, notes, a drawn signature
    and the job's photos not yet tied to a proof. The order is delivered (started first if
    it was only confirmed); finance gets a draft invoice through order.delivered."""
    from orders.models import FieldVisit, OrderAttachment, ProofOfDelivery

    signer_name = (signer_name or "").strip()
    if not signer_name:
        raise ValidationError("Give the name of the person who signed or received it.")
    with transaction.atomic():
        order = lock_order(order)
        _ensure_operations(by, "record deliveries")
        if order.status == Order.Status.CONFIRMED:
            order = start_work(order, by=by)
        photos = list(order.attachments.filter(kind=OrderAttachment.Kind.PHOTO, proof=None))
        summary = f"Signed by {signer_name}" if signature else f"Received by {signer_name}"
        if photos:
            summary += f"; {len(photos)} photo(s)"
        if notes.strip():
            summary += f". {notes.strip()}"
        order = deliver_order(
            order, by=by, automation=automation, proof=summary, received_by=signer_name
        )
        proof = ProofOfDelivery.objects.create(
            order=order, delivered_by=by, signer_name=signer_name, notes=notes.strip()
        )
        if signature:
            proof.signature = _store_image(
                order,
                by=by,
                data=signature,
                name=f"signature-{signer_name}.png",
                kind=OrderAttachment.Kind.SIGNATURE,
                proof=proof,
            )
            proof.save(update_fields=["signature"])
        for photo in photos:
            photo.proof = proof
            photo.save(update_fields=["proof"])
        for visit in order.visits.filter(status=FieldVisit.Status.SCHEDULED):
            visit.status = FieldVisit.Status.COMPLETED
            visit.completed_at = timezone.now()
            visit.save(update_fields=["status", "completed_at"])
        record(
            order,
            kind=TimelineEvent.Kind.NOTE,
            by=by,
            automation=automation,
            message=f"Proof of delivery: {summary}",
            proof=proof.pk,
            photos=[p.pk for p in photos],
        )
    return proof


def schedule_visit(order: Order, *, by, engineer, date, window_start, window_end, notes: str = ""):
    """Book an engineer's visit for a field job (a day and a time window)."""
    from orders.models import FieldVisit

    with transaction.atomic():
        order = lock_order(order)
        _ensure_operations(by, "schedule visits")
        ensure_not_on_hold(order, "have visits scheduled")
        if order.status not in (Order.Status.CONFIRMED, Order.Status.IN_PROGRESS):
            raise ValidationError(
                f"Order {order.number} is {order.get_status_display().lower()}; visits are "
                "scheduled for confirmed or in-progress orders."
            )
        if not has_role(engineer, Role.OPERATIONS):
            raise ValidationError(f"{engineer} is not an engineer in operations.")
        if window_end <= window_start:
            raise ValidationError("The time window must end after it starts.")
        visit = FieldVisit.objects.create(
            order=order,
            engineer=engineer,
            date=date,
            window_start=window_start,
            window_end=window_end,
            notes=(notes or "").strip(),
            created_by=by,
        )
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=(
                f"Visit scheduled for {date:%d %b %Y} {window_start:%H:%M}-{window_end:%H:%M} "
                f"with {engineer}."
            ),
            visit=visit.pk,
        )
        publish("order.visit_scheduled", subject=order, actor=by, visit=visit.pk)
    return visit


# --- service milestones -------------------------------------------------------------------


def add_milestone(
    order: Order,
    *,
    by,
    description: str,
    amount: Decimal | None = None,
    percent: Decimal | None = None,
    due_date: date | None = None,
    invoice_on_sign_off: bool = True,
):
    """A stage of a service order, worth an amount or a percentage of the net total."""
    from orders.models import Milestone

    description = (description or "").strip()
    if not description:
        raise ValidationError("A milestone needs a description.")
    if (amount is None) == (percent is None):
        raise ValidationError("Give a milestone either an amount or a percentage.")
    if amount is not None and Decimal(amount) <= 0:
        raise ValidationError("A milestone amount must be more than zero.")
    if percent is not None and not Decimal("0") < Decimal(percent) <= Decimal("100"):
        raise ValidationError("A milestone percentage must be between 0 and 100.")
    with transaction.atomic():
        order = lock_order(order)
        if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS):
            raise PermissionDenied("Your role may not plan milestones.")
        if order.is_closed or order.status in (Order.Status.INVOICED,):
            raise ValidationError(f"Order {order.number} no longer takes milestones.")
        milestone = Milestone.objects.create(
            order=order,
            position=order.milestones.count(),
            description=description[:200],
            amount=money.to_money(Decimal(amount)) if amount is not None else None,
            percent=Decimal(percent).quantize(Decimal("0.01")) if percent is not None else None,
            due_date=due_date,
            invoice_on_sign_off=invoice_on_sign_off,
        )
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Milestone planned: {milestone.description} ({milestone.net_amount}).",
            milestone=milestone.pk,
        )
    return milestone


def sign_off_milestone(milestone, *, by):
    """The customer accepted a stage of the work. If the milestone bills on sign-off,
    finance gets a draft milestone invoice through milestone.signed_off."""
    from orders.models import Milestone

    with transaction.atomic():
        order = lock_order(milestone.order_id)
        _ensure_operations(by, "sign off milestones")
        ensure_not_on_hold(order, "have milestones signed off")
        if order.status not in Order.STAGED_BILLING_STATES:
            raise ValidationError(
                f"Order {order.number} is {order.get_status_display().lower()}; milestones are "
                "signed off while the order is confirmed, in progress or delivered."
            )
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk, order=order)
        if milestone.is_signed_off:
            raise ValidationError(f"'{milestone.description}' is already signed off.")
        milestone.signed_off_at = timezone.now()
        milestone.signed_off_by = by
        milestone.save(update_fields=["signed_off_at", "signed_off_by"])
        amount = milestone.net_amount
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Milestone signed off: {milestone.description} ({amount}).",
            milestone=milestone.pk,
        )
        if milestone.invoice_on_sign_off:
            publish(
                "milestone.signed_off",
                subject=order,
                actor=by,
                milestone=milestone.pk,
                description=milestone.description,
                amount=str(amount),
            )
    return milestone


# --- change requests ----------------------------------------------------------------------

CHANGEABLE_STATES = (Order.Status.CONFIRMED, Order.Status.IN_PROGRESS)


def _order_snapshot(order: Order) -> dict[str, Any]:
    return {
        "lines": [
            {
                "id": line.pk,
                **_line_summary(line),
                "delivered_quantity": str(line.delivered_quantity),
            }
            for line in order.lines.all()
        ],
        "agreed_date": order.agreed_date.isoformat() if order.agreed_date else "",
        "net_total": str(order.net_total),
        "tax_total": str(order.tax_total),
        "gross_total": str(order.gross_total),
    }


def _invoiced_gross(order: Order) -> Decimal:
    """Gross already on issued (not void) invoices, less credit notes."""
    return order.invoiced_amount


def _check_change(order: Order, lines: list[dict] | None) -> list[OrderLine] | None:
    """Build the proposed lines and refuse anything that would alter what is delivered or
    invoiced: a delivered line cannot be removed or cut below its delivered quantity, and
    the new total cannot fall below what has been invoiced."""
    if lines is None:
        return None
    current = {line.pk: line for line in order.lines.all()}
    kept_products = {line.product_id for line in current.values() if line.product_id}
    built = []
    seen: set[int] = set()
    for position, data in enumerate(lines):
        line = _build_line(order, position, data, kept_products)
        line_id = data.get("id")
        if line_id:
            existing = current.get(int(line_id))
            if existing is None:
                raise ValidationError("A change names a line that is not on this order.")
            seen.add(existing.pk)
            line.pk = existing.pk
            line.delivered_quantity = existing.delivered_quantity
            if line.quantity < existing.delivered_quantity:
                raise ValidationError(
                    f"'{existing.description}' has {existing.delivered_quantity} delivered; "
                    "its quantity cannot go below that."
                )
        built.append(line)
    for line_id, existing in current.items():
        if line_id not in seen and existing.delivered_quantity > 0:
            raise ValidationError(
                f"'{existing.description}' has been partly delivered and cannot be removed."
            )
    if not built:
        raise ValidationError("A confirmed order keeps at least one line.")
    gross = sum((line.net_amount + line.tax_amount for line in built), money.ZERO)
    invoiced = _invoiced_gross(order)
    if gross < invoiced:
        raise ValidationError(
            f"The changed total ({gross}) would fall below the {invoiced} already invoiced; "
            "credit the invoice first."
        )
    return built


def create_change_request(
    order: Order,
    *,
    by,
    reason: str,
    lines: list[dict] | None = None,
    agreed_date: date | None = None,
):
    """Propose a change to a confirmed order: a new set of lines (each dict as
    set_order_lines takes it, plus `id` to keep an existing line) and/or a new agreed date,
    with a reason. It starts as a draft; approve it, or send it to the customer."""
    from orders.models import ChangeRequest

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason for the change.")
    if lines is None and agreed_date is None:
        raise ValidationError("A change request changes the lines or the agreed date.")
    with transaction.atomic():
        order = lock_order(order)
        if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS):
            raise PermissionDenied("Your role may not request changes to orders.")
        _ensure_changeable(order)
        built = _check_change(order, lines)
        after = _order_snapshot(order)
        if built is not None:
            after["lines"] = [
                {
                    "id": line.pk,
                    **_line_summary(line),
                    "delivered_quantity": str(line.delivered_quantity),
                }
                for line in built
            ]
            order_totals = Order(net_total=0)
            _set_totals(order_totals, built)
            after.update(
                net_total=str(order_totals.net_total),
                tax_total=str(order_totals.tax_total),
                gross_total=str(order_totals.gross_total),
            )
        if agreed_date is not None:
            after["agreed_date"] = agreed_date.isoformat()
        change = ChangeRequest.objects.create(
            order=order,
            reason=reason,
            proposed_lines=[_plain_line(data) for data in lines] if lines is not None else [],
            proposed_agreed_date=agreed_date,
            before=_order_snapshot(order),
            after=after,
            created_by=by,
        )
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            message=f"Change requested: {reason}",
            change_request=change.pk,
        )
        publish("change_request.created", subject=order, actor=by, change_request=change.pk)
    return change


def _plain_line(data: dict) -> dict:
    plain = {}
    for key, value in data.items():
        if key == "product" and isinstance(value, Product):
            value = value.pk
        plain[key] = _plain(value) if not isinstance(value, Decimal) else str(value)
    return plain


def _ensure_changeable(order: Order) -> None:
    ensure_not_on_hold(order, "be changed")
    if order.status not in CHANGEABLE_STATES:
        raise ValidationError(
            f"Order {order.number} is {order.get_status_display().lower()}; changes are made "
            "while it is confirmed or in progress."
        )


def _lock_change(change):
    from orders.models import ChangeRequest

    order = lock_order(change.order_id)
    return order, ChangeRequest.objects.select_for_update().get(pk=change.pk)


def send_change_request(change, *, by) -> str:
    """Ask the customer to approve the change through a single-use signed link; returns the
    link's URL (the email goes out through change_request.sent)."""
    from oms.links.services import change_request_url
    from orders.models import ChangeRequest

    with transaction.atomic():
        order, change = _lock_change(change)
        if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS):
            raise PermissionDenied("Your role may not send change requests.")
        if change.status != ChangeRequest.Status.DRAFT:
            raise ValidationError("Only a draft change request is sent to the customer.")
        change.status = ChangeRequest.Status.AWAITING_CUSTOMER
        change.save(update_fields=["status"])
        url = change_request_url(change, by=by)
        record(
            order,
            kind=TimelineEvent.Kind.COMMUNICATION,
            by=by,
            message="Change request sent to the customer for approval.",
            change_request=change.pk,
        )
        publish("change_request.sent", subject=order, actor=by, change_request=change.pk)
    return url


def approve_change_request(change, *, by=None, name: str = "", link=None):
    """Apply the change: the order's lines and agreed date are updated (never anything
    already delivered or invoiced) and the before/after goes on the timeline. `by=None`
    with a `link` means the customer approved through their signed link."""
    from oms.links.services import consume_link
    from orders.models import ChangeRequest

    with transaction.atomic():
        order, change = _lock_change(change)
        if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS):
            raise PermissionDenied("Your role may not approve changes.")
        if by is None:
            if link is None or not (name or "").strip():
                raise ValidationError("Type your name to approve the change.")
            consume_link(link, purpose="change_request")
        if not change.is_open:
            raise ValidationError(
                f"This change request is already {change.get_status_display().lower()}."
            )
        _ensure_changeable(order)
        before = _order_snapshot(order)
        lines = change.proposed_lines or None
        built = _check_change(order, lines)
        if built is not None:
            keep = {line.pk for line in built if line.pk}
            order.lines.exclude(pk__in=keep).delete()
            for line in built:
                line.save()
            _set_totals(order, built)
        if change.proposed_agreed_date is not None:
            order.agreed_date = change.proposed_agreed_date
        order.save(
            update_fields=["net_total", "tax_total", "gross_total", "agreed_date", "updated_at"]
        )
        after = _order_snapshot(order)
        change.status = ChangeRequest.Status.APPROVED
        change.before = before
        change.after = after
        change.decided_at = timezone.now()
        change.decided_by = by
        change.decided_by_name = (name or "").strip()[:200] or (str(by) if by else "")
        change.save(
            update_fields=[
                "status",
                "before",
                "after",
                "decided_at",
                "decided_by",
                "decided_by_name",
            ]
        )
        who = "the customer" if by is None else str(by)
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            automation="customer approval" if by is None else "",
            message=f"Change approved by {who}: {change.reason}\n{_describe_change(before, after)}",
            change_request=change.pk,
            before=before,
            after=after,
        )
        publish(
            "change_request.approved",
            subject=order,
            actor=by,
            change_request=change.pk,
            gross_total=str(order.gross_total),
        )
    return change


def _describe_change(before: dict, after: dict) -> str:
    """Before and after in words for the timeline: lines added, removed or changed, the
    agreed date and the total."""
    parts = []
    old_lines = {row["id"]: row for row in before["lines"]}
    new_ids = set()
    for row in after["lines"]:
        old = old_lines.get(row["id"])
        new_ids.add(row["id"])
        if old is None:
            parts.append(f"added {row['description']} {row['quantity']} @ {row['unit_price']}")
        elif (old["quantity"], old["unit_price"]) != (row["quantity"], row["unit_price"]):
            parts.append(
                f"{row['description']} {old['quantity']} @ {old['unit_price']} → "
                f"{row['quantity']} @ {row['unit_price']}"
            )
    for line_id, old in old_lines.items():
        if line_id not in new_ids:
            parts.append(f"removed {old['description']}")
    if before["agreed_date"] != after["agreed_date"]:
        parts.append(
            f"agreed date {before['agreed_date'] or 'none'} → {after['agreed_date'] or 'none'}"
        )
    parts.append(f"total {before['gross_total']} → {after['gross_total']}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def reject_change_request(change, *, by=None, reason: str = "", name: str = "", link=None):
    """The change will not happen; the order stays as it was."""
    from oms.links.services import consume_link
    from orders.models import ChangeRequest

    with transaction.atomic():
        order, change = _lock_change(change)
        if by is not None and not has_role(by, Role.SALES, Role.OPERATIONS):
            raise PermissionDenied("Your role may not reject changes.")
        if by is None:
            if link is None:
                raise PermissionDenied("Only the customer's link may reject on their behalf.")
            consume_link(link, purpose="change_request")
        if not change.is_open:
            raise ValidationError(
                f"This change request is already {change.get_status_display().lower()}."
            )
        change.status = ChangeRequest.Status.REJECTED
        change.decided_at = timezone.now()
        change.decided_by = by
        change.decided_by_name = (name or "").strip()[:200] or (str(by) if by else "")
        change.decision_note = (reason or "").strip()
        change.save(
            update_fields=["status", "decided_at", "decided_by", "decided_by_name", "decision_note"]
        )
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE,
            by=by,
            automation="customer decision" if by is None else "",
            message="Change rejected"
            + (f": {change.decision_note}" if change.decision_note else "."),
            change_request=change.pk,
        )
        publish("change_request.rejected", subject=order, actor=by, change_request=change.pk)
    return change
