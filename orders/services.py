"""Order services: the only way an order changes.

Every write follows one rhythm: lock the order row, check permission and rules, transition,
save, record a timeline event, publish an outbox event. Effects (emails, invoice drafting,
sync) happen after commit, through the outbox. `by=None` means an automation acted.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from customers.models import Customer
from oms.numbering.models import allocate_number
from oms.outbox.publish import publish
from orders.models import Order, TimelineEvent


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
    allowed = [t.custom.get("label", t.name) for t in order.get_available_status_transitions()]
    label = Order.Status(order.status).label.lower()
    next_steps = ", ".join(allowed) if allowed else "none, the order is closed"
    return (
        f"Order {order.number} is {label}; it cannot {name.replace('_', ' ')}. "
        f"Allowed next steps: {next_steps}."
    )


def ensure_transition(order: Order, method: Callable, by) -> None:
    """Refuse, with a sentence a user can read, a transition not allowed now or not for `by`."""
    name = method.__name__
    if not can_proceed(method):
        raise ValidationError(describe_refusal(order, name))
    if by is not None and not has_transition_perm(method, by):
        raise PermissionDenied(f"Your role may not {name.replace('_', ' ')} orders.")


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
    event_payload: dict | None = None,
    **kwargs: Any,
) -> Order:
    """Run transition `name` with the one rhythm: lock, check, transition, save, record,
    publish. Every named service below is this with its own arguments. Transitions that
    need a reason (lose, hold, rework, cancel) receive it too."""
    with transaction.atomic():
        order = lock_order(order)
        method = getattr(order, name)
        ensure_transition(order, method, by)
        source = order.status
        if _needs_reason(order, name):
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
            message=reason,
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


def confirm_order(order: Order, *, by, reason: str = "", automation: str = "") -> Order:
    """The customer said yes; operations hear of it through order.confirmed."""
    return transition_order(order, "confirm", by=by, reason=reason, automation=automation)


def lose_order(order: Order, *, by, reason: str, automation: str = "") -> Order:
    """Declined, expired or closed; follow-ups stop. A reason is required."""
    return transition_order(order, "lose", by=by, reason=reason, automation=automation)


def reopen_order(order: Order, *, by, reason: str = "") -> Order:
    """The customer came back: the order is an enquiry again."""
    return transition_order(order, "reopen", by=by, reason=reason)


def start_work(order: Order, *, by, reason: str = "") -> Order:
    """Operations begin; the customer is told work has started."""
    return transition_order(order, "start_work", by=by, reason=reason)


def hold_order(order: Order, *, by, reason: str, resume_date=None) -> Order:
    """Work pauses; nothing is delivered or invoiced until it resumes. The owner is told."""
    return transition_order(
        order,
        "hold",
        by=by,
        reason=reason,
        resume_date=resume_date,
        event_payload={"resume_date": str(resume_date or "")},
    )


def resume_order(order: Order, *, by, reason: str = "") -> Order:
    """Back to the stage the order was held from."""
    return transition_order(order, "resume", by=by, reason=reason)


def deliver_order(order: Order, *, by, reason: str = "", automation: str = "") -> Order:
    """Work done or goods shipped; finance gets a draft invoice through order.delivered."""
    return transition_order(order, "deliver", by=by, reason=reason, automation=automation)


def rework_order(order: Order, *, by, reason: str) -> Order:
    """The delivery was rejected: back to work, with the reason on the timeline."""
    return transition_order(order, "rework", by=by, reason=reason)


def cancel_order(order: Order, *, by, reason: str) -> Order:
    """Managers only; refused while invoices are unsettled (checked by invoicing)."""
    return transition_order(order, "cancel", by=by, reason=reason)
