"""Operations: the confirmed-orders queue, assignment, deliveries per line, production runs
and service milestones. Thin views: check access, parse input, call one service or query."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from oms.accounts.roles import Role, has_role
from orders import queries, services
from orders.models import Milestone, Order


def ensure_operations(user) -> None:
    if not has_role(user, Role.OPERATIONS):
        raise PermissionDenied("Only operations may open this page.")


def visible_order(request, number: str) -> Order:
    """The order `number` if this user may see it; 404 otherwise, so ids do not leak."""
    return get_object_or_404(Order.objects.visible_to(request.user), number=number)


def parse_day(text: str | None):
    try:
        return parse_date((text or "").strip())
    except ValueError:
        return None


def operations_staff():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.OPERATIONS.value)
        .order_by("email")
        .distinct()
    )


def act(request, order: Order, action: Callable[[], object], done: str):
    """Run one service call; report the outcome and go back where the form came from."""
    try:
        action()
    except services.OrderChanged as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("orders:detail", args=[order.number])
    return redirect(target or reverse("orders:detail", args=[order.number]))


@require_GET
@login_required
@vary_on_headers("HX-Request")
def order_queue(request):
    """Operations' day in one list: confirmed, in-progress and held orders by agreed date,
    50 to a page."""
    ensure_operations(request.user)
    filters = {
        "assignee": request.GET.get("assignee", "").strip(),
        "kind": request.GET.get("kind", "").strip(),
        "date_from": parse_day(request.GET.get("date_from")),
        "date_to": parse_day(request.GET.get("date_to")),
        "sort": request.GET.get("sort", "agreed"),
    }
    if filters["assignee"] not in ("", "none") and not filters["assignee"].isdigit():
        filters["assignee"] = ""
    if filters["kind"] not in Order.Kind.values:
        filters["kind"] = ""
    page = queries.operations_queue_page(page_number=request.GET.get("page"), **filters)
    context = {
        "page": page,
        "orders": page.object_list,
        "filters": filters,
        "staff": operations_staff(),
        "kinds": Order.Kind.choices,
        "now": timezone.now(),
    }
    template = "orders/order_queue.html"
    if request.htmx:
        template += "#queue-table"
    return render(request, template, context)


@require_POST
@login_required
def order_assign(request, number: str):
    """Give the order to someone in operations, or take it off them."""
    order = visible_order(request, number)
    ensure_operations(request.user)
    assignee_id = request.POST.get("assignee", "").strip()
    assignee = None
    if assignee_id:
        assignee = (
            operations_staff().filter(pk=assignee_id).first() if assignee_id.isdigit() else None
        )
        if assignee is None:
            messages.error(request, "Choose someone in operations.")
            return redirect("orders:detail", number=order.number)
    label = f"assigned to {assignee}" if assignee else "unassigned"
    return act(
        request,
        order,
        lambda: services.assign_order(order, by=request.user, assignee=assignee),
        f"Order {order.number} {label}.",
    )


@require_POST
@login_required
def order_production_run(request, number: str):
    """A manufacturing order's production run date and status."""
    order = visible_order(request, number)
    ensure_operations(request.user)
    return act(
        request,
        order,
        lambda: services.set_production_run(
            order,
            by=request.user,
            run_date=parse_day(request.POST.get("run_date")),
            status=request.POST.get("run_status", ""),
        ),
        "Production run updated.",
    )


@require_POST
@login_required
def order_line_delivery(request, number: str):
    """Delivered quantity per line (partial deliveries); all lines done delivers the order."""
    order = visible_order(request, number)
    ensure_operations(request.user)
    quantities = {}
    try:
        for line in order.lines.all():
            value = request.POST.get(f"line-{line.pk}", "").strip()
            if value:
                quantities[line.pk] = Decimal(value)
    except InvalidOperation:
        messages.error(request, "Delivered quantities must be numbers.")
        return redirect("orders:detail", number=order.number)
    return act(
        request,
        order,
        lambda: services.record_line_delivery(
            order,
            quantities,
            by=request.user,
            received_by=request.POST.get("received_by", ""),
            notes=request.POST.get("notes", ""),
        ),
        "Delivery recorded.",
    )


@require_POST
@login_required
def milestone_add(request, number: str):
    order = visible_order(request, number)
    if not has_role(request.user, Role.SALES, Role.OPERATIONS):
        raise PermissionDenied("Your role may not plan milestones.")

    def _decimal(name: str):
        value = request.POST.get(name, "").strip()
        if not value:
            return None
        try:
            return Decimal(value)
        except InvalidOperation as exc:
            raise ValidationError(f"{value!r} is not a number.") from exc

    return act(
        request,
        order,
        lambda: services.add_milestone(
            order,
            by=request.user,
            description=request.POST.get("description", ""),
            amount=_decimal("amount"),
            percent=_decimal("percent"),
            due_date=parse_day(request.POST.get("due_date")),
            invoice_on_sign_off=bool(request.POST.get("invoice_on_sign_off")),
        ),
        "Milestone added.",
    )


@require_POST
@login_required
def milestone_sign_off(request, number: str, milestone_id: int):
    order = visible_order(request, number)
    ensure_operations(request.user)
    milestone = get_object_or_404(Milestone, pk=milestone_id, order=order)
    return act(
        request,
        order,
        lambda: services.sign_off_milestone(milestone, by=request.user),
        f"Milestone '{milestone.description}' signed off.",
    )


@require_GET
@login_required
@vary_on_headers("HX-Request")
def order_fulfilment(request, number: str):
    """The order's fulfilment records: proof of delivery, milestones, visits, change
    requests and attachments; the order page loads it as a region."""
    order = get_object_or_404(
        Order.objects.visible_to(request.user).select_related("customer", "assignee"),
        number=number,
    )
    context = {
        "order": order,
        **queries.order_fulfilment(order),
        "staff": operations_staff() if has_role(request.user, Role.OPERATIONS) else [],
        "is_operations": has_role(request.user, Role.OPERATIONS),
        "may_change": has_role(request.user, Role.SALES, Role.OPERATIONS),
        "production_statuses": services.PRODUCTION_STATUSES,
    }
    template = "orders/order_fulfilment.html"
    if request.htmx:
        template += "#order-fulfilment"
    return render(request, template, context)
