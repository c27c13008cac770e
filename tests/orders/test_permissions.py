"""Who may move an order: sales quote, confirm, lose and reopen; operations start, hold,
resume, deliver and rework; finance owns billing; managers do everything and only managers
cancel; someone with no role does nothing."""

import pytest
from django.core.exceptions import PermissionDenied

from orders.models import TimelineEvent
from orders.services import (
    cancel_order,
    confirm_order,
    deliver_order,
    hold_order,
    lose_order,
    reopen_order,
    resume_order,
    rework_order,
    start_work,
    transition_order,
)
from tests.orders.test_transitions import ALLOWED, NEEDS_REASON, order_in

pytestmark = pytest.mark.django_db

MAY = {
    "send_quote": {"sales", "manager", "admin"},
    "confirm": {"sales", "manager", "admin"},
    "lose": {"sales", "manager", "admin"},
    "reopen": {"sales", "manager", "admin"},
    "start_work": {"operations", "manager", "admin"},
    "hold": {"operations", "manager", "admin"},
    "resume": {"operations", "manager", "admin"},
    "deliver": {"operations", "manager", "admin"},
    "rework": {"operations", "manager", "admin"},
    "mark_invoiced": {"finance", "manager", "admin"},
    "mark_paid": {"finance", "manager", "admin"},
    "reopen_billing": {"finance", "manager", "admin"},
    "cancel": {"manager", "admin"},
}
ROLES = ["sales", "operations", "finance", "manager", "admin", "outsider"]
FIRST_SOURCE = {}
for _name, _source, _target in ALLOWED:
    FIRST_SOURCE.setdefault(_name, (_source, _target))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(MAY))
def test_transition_permission_by_role(cast, name, role):
    source, target = FIRST_SOURCE[name]
    order = order_in(source, cast["manager"], held_from="confirmed")
    by = cast[role]
    reason = "A reason" if name in NEEDS_REASON else ""
    if role in MAY[name]:
        order = transition_order(order, name, by=by, reason=reason)
        order.refresh_from_db()
        assert order.status == target
    else:
        with pytest.raises(PermissionDenied):
            transition_order(order, name, by=by, reason=reason)
        order.refresh_from_db()
        assert order.status == source
        assert not TimelineEvent.objects.filter(order=order).exists()


def test_only_managers_cancel(cast):
    for role in ("sales", "operations", "finance"):
        order = order_in("in_progress", cast["manager"])
        with pytest.raises(PermissionDenied, match="Cancel order"):
            cancel_order(order, by=cast[role], reason="No longer needed")
    order = cancel_order(order_in("in_progress", cast["manager"]), by=cast["manager"], reason="x")
    assert order.status == "cancelled"


def test_sales_services_refused_to_operations(operations, manager):
    for service, state, kwargs in [
        (confirm_order, "quoted", {}),
        (lose_order, "quoted", {"reason": "r"}),
        (reopen_order, "lost", {}),
    ]:
        with pytest.raises(PermissionDenied):
            service(order_in(state, manager), by=operations, **kwargs)


def test_operations_services_refused_to_sales(sales, manager):
    for service, state, kwargs in [
        (start_work, "confirmed", {}),
        (hold_order, "in_progress", {"reason": "r"}),
        (deliver_order, "in_progress", {}),
        (rework_order, "delivered", {"reason": "r"}),
    ]:
        with pytest.raises(PermissionDenied):
            service(order_in(state, manager), by=sales, **kwargs)
    with pytest.raises(PermissionDenied):
        resume_order(order_in("on_hold", manager, held_from="confirmed"), by=sales)


def test_buttons_offered_match_the_role(cast):
    order = order_in("in_progress", cast["manager"])
    names = {role: {t.name for t in order.actions_for(cast[role])} for role in ROLES}
    assert names["operations"] == {"hold", "deliver"}
    assert names["sales"] == set()
    assert names["finance"] == set()
    assert names["manager"] == {"hold", "deliver", "cancel"}
    assert names["outsider"] == set()
