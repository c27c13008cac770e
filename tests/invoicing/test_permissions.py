"""Finance owns invoices and payments; managers (and superusers) may do everything."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from invoicing import services
from invoicing.models import Invoice

pytestmark = pytest.mark.django_db

ALLOWED = ["finance", "manager", "admin"]
REFUSED = ["sales", "operations", "outsider"]


def _issued(order_at):
    draft = services.draft_invoice_for_order(order_at("delivered"))
    return services.approve_invoice(draft, by=None)


ACTIONS = {
    "draft": lambda inv, user: services.draft_invoice_for_order(inv.order, by=user),
    "deposit": lambda inv, user: services.create_deposit_invoice(
        inv.order, by=user, percent=Decimal("10")
    ),
    "milestone": lambda inv, user: services.create_milestone_invoice(
        inv.order, by=user, description="Stage", amount=Decimal("10")
    ),
    "approve": lambda inv, user: services.approve_invoice(inv, by=user),
    "send": lambda inv, user: services.send_invoice(inv, by=user),
    "pay": lambda inv, user: services.record_payment(inv, by=user, amount=Decimal("1")),
    "credit": lambda inv, user: services.create_credit_note(
        inv, by=user, reason="Goodwill", amount=Decimal("1")
    ),
    "void": lambda inv, user: services.void_invoice(inv, by=user, reason="Duplicate"),
    "dispute": lambda inv, user: services.dispute_invoice(inv, by=user, reason="Price"),
    "promise": lambda inv, user: services.set_promise_to_pay(
        inv, by=user, date=timezone.localdate() + timedelta(days=3)
    ),
}


def _subject(name, order_at):
    """The invoice each action needs: a draft final, a confirmed order's, or an issued one."""
    if name in ("deposit", "milestone"):
        return Invoice(order=order_at("confirmed"))
    if name in ("draft", "approve"):
        return services.draft_invoice_for_order(order_at("delivered"))
    return _issued(order_at)


@pytest.mark.parametrize("role", REFUSED)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_invoicing_refused_to_other_roles(cast, order_at, role, action):
    subject = _subject(action, order_at)
    with pytest.raises(PermissionDenied):
        ACTIONS[action](subject, cast[role])


@pytest.mark.parametrize("role", ALLOWED)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_invoicing_allowed_to_finance_and_managers(cast, order_at, role, action):
    subject = _subject(action, order_at)
    assert ACTIONS[action](subject, cast[role]) is not None
