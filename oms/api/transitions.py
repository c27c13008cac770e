"""Order transitions by name, as the API offers them: the same services the order page uses."""

from django_fsm import can_proceed

from orders import services
from orders.models import Order

# Sending a quote goes through the quote endpoints; invoiced, paid and billing-reopened
# follow from invoices and payments, so they are not offered here either.
TRANSITION_SERVICES = {
    "confirm": services.confirm_order,
    "lose": services.lose_order,
    "reopen": services.reopen_order,
    "start_work": services.start_work,
    "hold": services.hold_order,
    "resume": services.resume_order,
    "deliver": services.deliver_order,
    "rework": services.rework_order,
    "cancel": services.cancel_order,
}


def _describe(transition) -> dict:
    custom = transition.custom or {}
    return {
        "name": transition.name,
        "label": custom.get("label", transition.name.replace("_", " ").capitalize()),
        "needs_reason": bool(custom.get("needs_reason")),
    }


def _ordered(transitions) -> list[dict]:
    order = list(TRANSITION_SERVICES)
    offered = [t for t in transitions if t.name in TRANSITION_SERVICES]
    return [_describe(t) for t in sorted(offered, key=lambda t: order.index(t.name))]


def transitions_for(order: Order, user) -> list[dict]:
    """What `user` may POST now."""
    return _ordered(order.get_available_user_status_transitions(user))


def transitions_from_state(order: Order) -> list[dict]:
    """What anyone with the right role may POST in the order's current state."""
    return _ordered(order.get_available_status_transitions())


def is_allowed_now(order: Order, name: str) -> bool:
    return can_proceed(getattr(order, name))


def needs_reason(order: Order, name: str) -> bool:
    transition = getattr(order, name)._django_fsm.get_transition(order.status)
    return bool(transition and (transition.custom or {}).get("needs_reason"))
