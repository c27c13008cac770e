"""The order page ("where is my order?") and the actions taken from it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from oms.links import services as links
from oms.links.models import CustomerLink
from orders import queries, services
from orders.models import Order

TEMPLATE = "orders/order_detail.html"
PARTIALS = ("order-header", "order-actions", "order-timeline", "order-links")

# Transitions a person may take from the order page, and the service that carries each.
# Sending a quote happens in the quote builder; invoiced/paid/billing-reopened are automatic.
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


def _order(request, number: str) -> Order:
    return get_object_or_404(queries.order_for_page(request.user, number))


def available_actions(order: Order, user) -> list[dict]:
    """Buttons for the transitions this user may take now, straight from the state machine."""
    actions = []
    for transition in order.get_available_user_status_transitions(user):
        custom = transition.custom or {}
        if custom.get("automatic") or transition.name not in TRANSITION_SERVICES:
            continue
        actions.append(
            {
                "name": transition.name,
                "label": custom.get("label", transition.name.replace("_", " ").capitalize()),
                "needs_reason": bool(custom.get("needs_reason")),
                "takes_resume_date": transition.name == "hold",
                "takes_proof": transition.name == "deliver",
                "danger": transition.name in ("lose", "cancel"),
            }
        )
    return actions


def _context(request, order: Order, **extra) -> dict:
    return {
        "order": order,
        "actions": available_actions(order, request.user),
        "stages": queries.stage_history(order),
        "next_action": queries.next_scheduled_action(order),
        "links": queries.customer_links(order),
        **extra,
    }


@require_GET
@login_required
@vary_on_headers("HX-Request")
def order_detail(request, number: str):
    """Everything about one order on one screen; htmx may ask for one named region."""
    order = _order(request, number)
    partial = request.GET.get("partial", "")
    if request.htmx and partial in PARTIALS:
        return render(request, f"{TEMPLATE}#{partial}", _context(request, order))
    return render(request, TEMPLATE, _context(request, order))


@require_POST
@login_required
def order_transition(request, number: str, name: str):
    """Take one transition; answer with the refreshed header (htmx) or a redirect."""
    order = _order(request, number)
    service = TRANSITION_SERVICES.get(name)
    if service is None:
        raise Http404("No such action.")
    kwargs = {"reason": request.POST.get("reason", "").strip()}
    if name == "hold" and request.POST.get("resume_date"):
        kwargs["resume_date"] = _date_or_none(request.POST["resume_date"])
    if name == "deliver":
        kwargs["received_by"] = request.POST.get("received_by", "").strip()
        kwargs["proof"] = request.POST.get("proof", "").strip()
    seen = request.POST.get("status", "")
    error, status = "", 200
    try:
        if seen and seen != order.status:
            raise services.OrderChanged(order)
        order = service(order, by=request.user, **kwargs)
    except services.OrderChanged as exc:
        error, status = str(exc), 409
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 422
    except PermissionDenied as exc:
        error, status = str(exc) or "Your role may not do that.", 403

    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Order {order.number}: {_done_message(order)}")
        return redirect("orders:detail", number=order.number)

    order = _order(request, number)
    context = _context(request, order, action_error=error)
    response = render(request, f"{TEMPLATE}#order-header", context, status=status)
    if not error:
        trigger_client_event(response, "order-changed")
    return response


def _date_or_none(text: str):
    try:
        return parse_date(text.strip())
    except ValueError:
        return None


def _done_message(order: Order) -> str:
    return f"now {order.get_status_display().lower()}."


@require_POST
@login_required
def order_link_issue(request, number: str):
    """Make a tracking link staff can copy to the customer (reuses a live one)."""
    order = _order(request, number)
    url = links.tracking_url(order, by=request.user)
    return _links_response(request, order, issued_url=url)


@require_POST
@login_required
def order_link_revoke(request, number: str, link_id: int):
    """Withdraw one of this order's customer links; it answers 404 from now on."""
    order = _order(request, number)
    link = get_object_or_404(CustomerLink, pk=link_id, order_id=order.pk)
    links.revoke_link(link, by=request.user)
    return _links_response(request, order, notice=f"{link.get_purpose_display()} link revoked.")


def _links_response(request, order: Order, *, issued_url: str = "", notice: str = ""):
    if not request.htmx:
        if issued_url:
            messages.success(request, f"Tracking link: {issued_url}")
        if notice:
            messages.success(request, notice)
        return redirect("orders:detail", number=order.number)
    context = _context(request, order, issued_url=issued_url, links_notice=notice)
    response: HttpResponse = render(request, f"{TEMPLATE}#order-links", context)
    return response
