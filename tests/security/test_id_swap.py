"""Changing the id or number in a URL never reaches someone else's data.

Every route whose URL carries an object's id or number (found by walking the URL resolver)
has a row in SWAPS: the role that may open object A, then the same URL pointing at
objects that role may not see (another salesperson's order, a child of another order) and
at an id that does not exist. Those answer 404, never 500, and write nothing. A new route
with an id and no row fails test_every_route_with_an_id_has_a_swap.
"""

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple
from uuid import uuid4

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from PIL import Image

from oms.outbox.models import OutboxEvent
from orders.models import TimelineEvent
from tests.test_access_matrix import SKIPPED_NAMESPACES

MISSING_NUMBER = "ORD-NO-SUCH-0"
MISSING_ID = 2_000_000_000

# Django's own password-reset link carries a user id that its signed token must match.
NOT_OBJECT_IDS = {"accounts:password_reset_confirm"}


def id_parameters(pattern: URLPattern) -> set[str]:
    """The URL parameters that name an object: number, pk, anything ending in _id, and any
    integer or UUID (path converters and the regex groups of API routers alike)."""
    converters = pattern.pattern.converters
    names = set(pattern.pattern.regex.groupindex)
    return {
        name
        for name in names
        if name in ("number", "pk")
        or name.endswith("_id")
        or isinstance(converters.get(name), IntConverter | UUIDConverter)
    }


def routes_with_ids(patterns=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in SKIPPED_NAMESPACES and not namespace:
                continue
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            names |= routes_with_ids(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and id_parameters(pattern):
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names - NOT_OBJECT_IDS


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return buffer.getvalue()


class World:
    """Objects of two salespeople: `sales` works on "mine", `other_sales` on "theirs"."""

    def __init__(self, request):
        self.request = request

    def user(self, role: str):
        fixture = {"admin": "admin_user"}.get(role, role)
        return self.request.getfixturevalue(fixture)

    @cached_property
    def sales(self):
        return self.user("sales")

    @cached_property
    def manager(self):
        return self.user("manager")

    def _order(self, owner, state: str = "enquiry"):
        from tests.factories import CustomerFactory, advance_order, place_order

        order = place_order(owner, customer=CustomerFactory(account_manager=owner))
        if state != "enquiry":
            # Owner stays the salesperson; a manager moves it on (they hold every role).
            order = advance_order(order, state, by=self.manager)
        return order

    @cached_property
    def mine(self):
        return self._order(self.sales)

    @cached_property
    def theirs(self):
        return self._order(self.user("other_sales"))

    @cached_property
    def mine_confirmed(self):
        return self._order(self.sales, "confirmed")

    @cached_property
    def another_of_mine_confirmed(self):
        return self._order(self.sales, "confirmed")

    @cached_property
    def theirs_confirmed(self):
        return self._order(self.user("other_sales"), "confirmed")

    @cached_property
    def mine_in_progress(self):
        return self._order(self.sales, "in_progress")

    def quote(self, order):
        from tests.factories import send_new_quote

        return send_new_quote(order, self.manager)

    @cached_property
    def my_quote(self):
        return self.quote(self.mine)

    @cached_property
    def their_quote(self):
        return self.quote(self.theirs)

    def change(self, order):
        from orders.services import create_change_request

        return create_change_request(
            order, by=self.manager, reason="Later start", agreed_date=date(2031, 1, 31)
        )

    def milestone(self, order):
        from orders.services import add_milestone

        return add_milestone(order, by=self.manager, description="Design", amount=Decimal("10"))

    def photo(self, order):
        from orders.services import add_order_photo

        self.request.getfixturevalue("settings").MEDIA_ROOT = str(
            self.request.getfixturevalue("tmp_path")
        )
        return add_order_photo(order, by=self.manager, data=_png(), name="site.png")

    def link(self, order):
        from oms.links.services import issue_link

        return issue_link(order, purpose="tracking")

    def notification(self, user):
        from oms.automation.models import Notification

        return Notification.objects.create(user=user, key=f"swap-{user.pk}", title="Hello")

    def invoice(self):
        from invoicing.services import approve_invoice, draft_invoice_for_order

        order = self._order(self.sales, "delivered")
        return approve_invoice(draft_invoice_for_order(order, by=self.manager), by=self.manager)

    @cached_property
    def my_invoice(self):
        return self.invoice()

    @cached_property
    def their_invoice(self):
        return self.invoice()

    @cached_property
    def tracking_token(self) -> str:
        from oms.links.services import issue_link

        return issue_link(self.my_invoice.order, purpose="tracking").token

    @cached_property
    def rule(self):
        from oms.automation.models import Rule

        return Rule.objects.order_by("pk").first()

    @cached_property
    def sync_record(self):
        from invoicing.accounting.models import SyncRecord

        return SyncRecord.objects.create(
            kind=SyncRecord.Kind.INVOICE, local_id=1, status="failed", last_error="Refused"
        )


Kwargs = Callable[[World], dict[str, Any]]


class Swap(NamedTuple):
    role: str
    own: Kwargs
    foreign: tuple[Kwargs, ...]
    missing: tuple[Kwargs, ...]
    method: str = "get"
    data: dict[str, Any] | None = None


def by_number(attribute: str = "mine") -> Kwargs:
    return lambda w: {"number": getattr(w, attribute).number}


MY_ORDER = by_number("mine")
THEIR_ORDER = by_number("theirs")
NO_ORDER = lambda w: {"number": MISSING_NUMBER}  # noqa: E731


def order_swap(role: str = "sales", method: str = "post", data=None, state="mine") -> Swap:
    """A route on one order: sales may open their own, not another salesperson's."""
    own = by_number(state)
    foreign = (THEIR_ORDER,) if role == "sales" else ()
    return Swap(role, own, foreign, (NO_ORDER,), method, data)


def child_swap(
    parent: str, child: str, make: Callable, role: str = "sales", method: str = "post"
) -> Swap:
    """A route on an order's child (change, milestone, photo, link): the child of another
    order is refused even under the caller's own order number, and so is the other
    order's whole URL."""

    def own(w):
        order = getattr(w, parent)
        return {"number": order.number, child: make(w, order).pk}

    def child_of_another_of_mine(w):
        other = w.another_of_mine_confirmed
        return {"number": getattr(w, parent).number, child: make(w, other).pk}

    def theirs_whole(w):
        order = w.theirs_confirmed
        return {"number": order.number, child: make(w, order).pk}

    foreign = (child_of_another_of_mine,) + ((theirs_whole,) if role == "sales" else ())
    missing = (lambda w: {"number": getattr(w, parent).number, child: MISSING_ID},)
    return Swap(role, own, foreign, missing, method)


def quote_swap(method: str = "post", data=None) -> Swap:
    return Swap(
        "sales",
        lambda w: {"pk": w.my_quote.pk},
        (lambda w: {"pk": w.their_quote.pk},),
        (lambda w: {"pk": MISSING_ID},),
        method,
        data,
    )


def invoice_swap(method: str = "post", data=None) -> Swap:
    """Finance see every invoice; only a missing id is left to refuse."""
    return Swap(
        "finance",
        lambda w: {"pk": w.my_invoice.pk},
        (),
        (lambda w: {"pk": MISSING_ID},),
        method,
        data,
    )


def missing_only(role: str, own: Kwargs, method: str = "get") -> Swap:
    return Swap(role, own, (), (lambda w: {"pk": MISSING_ID},), method)


def invoice_line_swap(method: str = "post") -> Swap:
    """A line of an invoice: another invoice's line under this invoice's id is refused."""

    def own(w):
        return {"pk": w.my_invoice.pk, "line_id": w.my_invoice.lines.first().pk}

    def line_of_another(w):
        return {"pk": w.my_invoice.pk, "line_id": w.their_invoice.lines.first().pk}

    return Swap(
        "finance",
        own,
        (line_of_another,),
        (
            lambda w: {"pk": w.my_invoice.pk, "line_id": MISSING_ID},
            lambda w: {"pk": MISSING_ID, "line_id": w.my_invoice.lines.first().pk},
        ),
        method,
    )


def bank_line(w: World):
    """One unmatched line of a statement finance imported."""
    from uuid import uuid4

    from invoicing.banking.services import import_statement

    statement = import_statement(
        by=w.manager,
        filename="bank.csv",
        content=f"Date,Amount,Reference\n2026-01-05,1.23,{uuid4().hex}\n".encode(),
        currency="GBP",
    )
    return statement.lines.get()


def api_token(w: World, user) -> dict:
    from oms.api.services import create_api_token

    token, _secret = create_api_token(name="Reports", by=user)
    return {"pk": token.pk}


def import_job(w: World, user) -> dict:
    from oms.imports.services import start_import

    job = start_import(
        kind="customers", name="people.csv", data=b"name,email\nAcme,a@example.com\n", by=user
    )
    return {"pk": job.pk}


def webhook_endpoint(w: World):
    from oms.webhooks.services import create_endpoint

    return create_endpoint(
        url="https://hooks.example.com/oms",
        description="Swap check",
        event_types=["order.confirmed"],
        by=w.manager,
    )


def webhook_delivery(w: World, endpoint=None):
    from oms.webhooks.services import send_ping

    return send_ping(endpoint or webhook_endpoint(w), by=w.manager)


def webhook_swap(method: str = "post") -> Swap:
    """Managers see every endpoint; only a missing id is left to refuse."""
    return missing_only("manager", lambda w: {"pk": webhook_endpoint(w).pk}, method)


def _delivery_kwargs(delivery) -> dict:
    return {"pk": delivery.endpoint_id, "delivery": delivery.uuid}


def product(w: World):
    from tests.factories import ProductFactory

    return ProductFactory()


def payment(w: World) -> dict:
    from invoicing.services import record_payment

    return {"pk": record_payment(w.my_invoice, by=w.manager, amount=Decimal("1.00")).pk}


def api_order_swap(method: str = "get", data=None, **extra) -> Swap:
    return Swap(
        "sales",
        lambda w: {"number": w.mine.number, **extra},
        (lambda w: {"number": w.theirs.number, **extra},),
        (lambda w: {"number": MISSING_NUMBER, **extra},),
        method,
        data,
    )


SWAPS: dict[str, Swap] = {
    # orders: sales see their own and their customers' orders
    "orders:detail": order_swap(method="get"),
    "orders:fulfilment": order_swap(method="get"),
    "orders:enquiry_confirm": order_swap(),
    "orders:transition": Swap(
        "sales",
        lambda w: {"number": w.mine.number, "name": "confirm"},
        (lambda w: {"number": w.theirs.number, "name": "confirm"},),
        (lambda w: {"number": MISSING_NUMBER, "name": "confirm"},),
        "post",
        {"status": "enquiry"},
    ),
    "orders:link_issue": order_swap(),
    "orders:link_revoke": child_swap("mine_confirmed", "link_id", lambda w, o: w.link(o)),
    "orders:change_create": order_swap(method="get", state="mine_confirmed"),
    "orders:change_send": child_swap("mine_confirmed", "change_id", lambda w, o: w.change(o)),
    "orders:change_approve": child_swap("mine_confirmed", "change_id", lambda w, o: w.change(o)),
    "orders:change_reject": child_swap("mine_confirmed", "change_id", lambda w, o: w.change(o)),
    "orders:milestone_add": order_swap(data={"description": "Design", "amount": "10"}),
    "orders:attachment": child_swap(
        "mine_confirmed", "attachment_id", lambda w, o: w.photo(o), method="get"
    ),
    # operations and field work: operations see every order, so a missing one is refused,
    # and a child of another order under this order's number
    "orders:assign": order_swap("operations", data={"assignee": ""}),
    "orders:production_run": order_swap("operations", data={"run_status": "planned"}),
    "orders:line_delivery": order_swap("operations"),
    "orders:visit_schedule": order_swap("operations"),
    "orders:job_sheet": order_swap("operations", method="get", state="mine_in_progress"),
    "orders:job_note": order_swap("operations", data={"note": "Arrived"}),
    "orders:photo_upload": order_swap("operations"),
    "orders:job_sign_off": order_swap("operations"),
    "orders:milestone_sign_off": child_swap(
        "mine_confirmed", "milestone_id", lambda w, o: w.milestone(o), role="operations"
    ),
    # a tracking link reaches its own order's invoices only
    "orders:track_invoice_pdf": Swap(
        "anonymous",
        lambda w: {"token": w.tracking_token, "invoice_id": w.my_invoice.pk},
        (lambda w: {"token": w.tracking_token, "invoice_id": w.their_invoice.pk},),
        (lambda w: {"token": w.tracking_token, "invoice_id": MISSING_ID},),
    ),
    # quotes
    "quotes:builder": order_swap(method="get"),
    "quotes:detail": quote_swap("get"),
    "quotes:pdf": quote_swap("get"),
    "quotes:revise": quote_swap(),
    "quotes:accept_by_phone": quote_swap(data={"name": "Pat Buyer"}),
    "quotes:decline": quote_swap(),
    "quotes:pause_followups": quote_swap(),
    "quotes:resume_followups": quote_swap(),
    "quotes:resend": quote_swap(),
    # invoices
    "invoicing:detail": invoice_swap("get"),
    "invoicing:pdf": invoice_swap("get"),
    "invoicing:edit_lines": invoice_swap(),
    "invoicing:approve": invoice_swap(),
    "invoicing:send": invoice_swap(),
    "invoicing:record_payment": invoice_swap(data={"amount": "1.00", "method": "bank_transfer"}),
    "invoicing:credit": invoice_swap(data={"reason": "Goodwill", "amount": "1.00"}),
    "invoicing:void": invoice_swap(data={"reason": "Duplicate"}),
    "invoicing:resolve_dispute": invoice_swap(data={"reason": "Credited"}),
    "invoicing:apply_credit": invoice_swap(),
    "invoicing:line_add": invoice_swap(),
    "invoicing:line_edit": invoice_line_swap("get"),
    "invoicing:line_row": invoice_line_swap("get"),
    "invoicing:line_remove": invoice_line_swap(),
    "invoicing:customer_billing": missing_only("finance", lambda w: {"pk": w.mine.customer_id}),
    "invoicing:customer_receive_payment": missing_only(
        "finance", lambda w: {"pk": w.mine.customer_id}, "post"
    ),
    "invoicing:time_entry": order_swap("operations", state="mine_in_progress"),
    "invoicing:deposit": order_swap("finance", data={"percent": "10"}, state="mine_confirmed"),
    "invoicing:milestone": order_swap(
        "finance", data={"description": "Stage 1", "amount": "10"}, state="mine_confirmed"
    ),
    # bank statements: finance see every one, so only a missing id is left to refuse
    "banking:statement": missing_only("finance", lambda w: {"pk": bank_line(w).statement_id}),
    "banking:line_confirm": missing_only("finance", lambda w: {"pk": bank_line(w).pk}, "post"),
    "banking:line_change": missing_only("finance", lambda w: {"pk": bank_line(w).pk}, "post"),
    "banking:line_reject": missing_only("finance", lambda w: {"pk": bank_line(w).pk}, "post"),
    "banking:line_ignore": missing_only("finance", lambda w: {"pk": bank_line(w).pk}, "post"),
    # notifications are their recipient's alone
    "automation:notification_read": Swap(
        "sales",
        lambda w: {"pk": w.notification(w.sales).pk},
        (lambda w: {"pk": w.notification(w.user("other_sales")).pk},),
        (lambda w: {"pk": MISSING_ID},),
        "post",
    ),
    "automation:rule_edit": missing_only("manager", lambda w: {"pk": w.rule.pk}),
    "automation:rule_toggle": missing_only("manager", lambda w: {"pk": w.rule.pk}, "post"),
    "accounting:sync_retry": missing_only("finance", lambda w: {"pk": w.sync_record.pk}, "post"),
    # the JSON API: the same visibility as the pages
    "api:customer-detail": Swap(
        "sales",
        lambda w: {"pk": w.mine.customer_id},
        (lambda w: {"pk": w.theirs.customer_id},),
        (lambda w: {"pk": MISSING_ID},),
    ),
    "api:product-detail": missing_only("sales", lambda w: {"pk": product(w).pk}),
    "api:order-detail": api_order_swap(),
    "api:order-timeline": api_order_swap(),
    "api:order-transition": api_order_swap("post", {"status": "enquiry"}, name="confirm"),
    "api:order-lines": api_order_swap("put"),
    "api:quote-detail": quote_swap("get"),
    "api:quote-send": quote_swap(),
    "api:quote-accept": quote_swap(data={"name": "Pat Buyer"}),
    "api:quote-decline": quote_swap(),
    "api:invoice-detail": invoice_swap("get"),
    "api:invoice-approve": invoice_swap(),
    "api:invoice-send": invoice_swap(),
    "api:payment-detail": missing_only("finance", payment),
    "api:token_revoke": Swap(
        "sales",
        lambda w: api_token(w, w.sales),
        (lambda w: api_token(w, w.user("other_sales")),),
        (lambda w: {"pk": MISSING_ID},),
        "post",
    ),
    # spreadsheet imports are their importer's (and managers')
    **{
        f"imports:{name}": Swap(
            "sales",
            lambda w: import_job(w, w.sales),
            (lambda w: import_job(w, w.user("other_sales")),),
            (lambda w: {"pk": MISSING_ID},),
            method,
        )
        for name, method in (
            ("detail", "get"),
            ("mapping", "get"),
            ("preview", "get"),
            ("run", "post"),
            ("summary_csv", "get"),
        )
    },
    # webhooks: managers only
    "webhooks:detail": webhook_swap("get"),
    "webhooks:edit": webhook_swap("get"),
    "webhooks:pause": webhook_swap(),
    "webhooks:resume": webhook_swap(),
    "webhooks:archive": webhook_swap(),
    "webhooks:ping": webhook_swap(),
    "webhooks:rotate": webhook_swap(),
    **{
        f"webhooks:{name}": Swap(
            "manager",
            lambda w: _delivery_kwargs(webhook_delivery(w)),
            # A delivery of another endpoint, under this endpoint's id.
            (
                lambda w: {
                    "pk": webhook_endpoint(w).pk,
                    "delivery": webhook_delivery(w).uuid,
                },
            ),
            (lambda w: {"pk": webhook_endpoint(w).pk, "delivery": uuid4()},),
            method,
        )
        for name, method in (("delivery", "get"), ("redeliver", "post"))
    },
}


def test_every_route_with_an_id_has_a_swap():
    missing = sorted(routes_with_ids() - set(SWAPS))
    assert not missing, "Add an ID-swap row to tests/security/test_id_swap.py for: " + str(missing)


def test_every_swap_names_a_route_with_an_id():
    assert sorted(set(SWAPS) - routes_with_ids()) == []


def _written() -> tuple[int, int]:
    return TimelineEvent.objects.count(), OutboxEvent.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SWAPS))
def test_swapped_or_missing_id_is_not_found(client, request, name):
    swap = SWAPS[name]
    world = World(request)
    if swap.role != "anonymous":
        client.force_login(world.user(swap.role))
    send = {
        "get": client.get,
        "post": client.post,
        "put": lambda url, data: client.put(url, data, content_type="application/json"),
    }[swap.method]
    refused = [kwargs(world) for kwargs in swap.foreign + swap.missing]
    own = swap.own(world)
    before = _written()

    for kwargs in refused:
        url = reverse(name, kwargs=kwargs)
        response = send(url, swap.data or {})
        assert response.status_code == 404, f"{swap.role} {url}: {response.status_code}"
    assert _written() == before, "a refused request wrote to the timeline or outbox"

    url = reverse(name, kwargs=own)
    response = send(url, swap.data or {})
    assert response.status_code not in (403, 404) and response.status_code < 500, (
        f"{swap.role} may open their own {url}: got {response.status_code}"
    )
