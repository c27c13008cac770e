"""Change requests on confirmed orders: propose, send to the customer for approval through
a signed link, approve or reject. The customer's page is public and rate-limited."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from oms.accounts.roles import Role, has_role
from oms.links.models import CustomerLink
from oms.links.services import LinkUsed
from oms.links.views import public_link_view
from orders import services
from orders.models import ChangeRequest
from orders.views.operations import act, parse_day, visible_order

NEW_LINE_SLOTS = 3


def _ensure_may_change(user) -> None:
    if not has_role(user, Role.SALES, Role.OPERATIONS):
        raise PermissionDenied("Your role may not change orders.")


def _number(text: str, label: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValidationError(f"{text!r} is not a valid {label}.") from exc


def _proposed_lines(post, order) -> list[dict] | None:
    """The lines after the change, from the form: kept lines (maybe with a new quantity or
    price) and any new ones. None when the lines are left as they are."""
    lines, changed = [], False
    for line in order.lines.all():
        if post.get(f"remove-{line.pk}"):
            changed = True
            continue
        quantity = _number(post.get(f"quantity-{line.pk}", str(line.quantity)), "quantity")
        price = _number(post.get(f"price-{line.pk}", str(line.unit_price)), "unit price")
        changed |= quantity != line.quantity or price != line.unit_price
        lines.append(
            {
                "id": line.pk,
                "product": line.product_id,
                "description": line.description,
                "quantity": quantity,
                "unit": line.unit,
                "unit_price": price,
                "discount_percent": line.discount_percent,
                "tax_rate": line.tax_rate,
            }
        )
    for slot in range(NEW_LINE_SLOTS):
        description = post.get(f"new-description-{slot}", "").strip()
        if not description:
            continue
        changed = True
        lines.append(
            {
                "description": description,
                "quantity": _number(post.get(f"new-quantity-{slot}", ""), "quantity"),
                "unit_price": _number(post.get(f"new-price-{slot}", ""), "unit price"),
                "tax_rate": _number(post.get(f"new-tax-{slot}", "") or "20", "tax rate"),
            }
        )
    return lines if changed else None


@require_http_methods(["GET", "POST"])
@login_required
def change_create(request, number: str):
    """Propose a change to a confirmed order: lines, prices, the agreed date, and why."""
    order = visible_order(request, number)
    _ensure_may_change(request.user)
    error = ""
    if request.method == "POST":
        try:
            change = services.create_change_request(
                order,
                by=request.user,
                reason=request.POST.get("reason", ""),
                lines=_proposed_lines(request.POST, order),
                agreed_date=parse_day(request.POST.get("agreed_date")),
            )
        except services.OrderChanged as exc:
            error = str(exc)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Change request #{change.pk} drafted.")
            return redirect("orders:detail", number=order.number)
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "new_slots": range(NEW_LINE_SLOTS),
        "error": error,
        "post": request.POST,
    }
    return render(request, "orders/change_form.html", context, status=422 if error else 200)


def _change(request, number: str, change_id: int) -> ChangeRequest:
    order = visible_order(request, number)
    _ensure_may_change(request.user)
    return get_object_or_404(
        ChangeRequest.objects.select_related("order"), pk=change_id, order=order
    )


@require_POST
@login_required
def change_send(request, number: str, change_id: int):
    """Send the change to the customer; the approval link is shown to copy as well."""
    change = _change(request, number, change_id)
    result = {}

    def send():
        result["url"] = services.send_change_request(change, by=request.user)

    response = act(request, change.order, send, "Change request sent to the customer.")
    if "url" in result:
        messages.info(request, f"Approval link: {result['url']}")
    return response


@require_POST
@login_required
def change_approve(request, number: str, change_id: int):
    """Approved on the customer's behalf (they agreed by phone or email)."""
    change = _change(request, number, change_id)
    return act(
        request,
        change.order,
        lambda: services.approve_change_request(change, by=request.user),
        "Change approved; the order is updated.",
    )


@require_POST
@login_required
def change_reject(request, number: str, change_id: int):
    change = _change(request, number, change_id)
    return act(
        request,
        change.order,
        lambda: services.reject_change_request(
            change, by=request.user, reason=request.POST.get("reason", "")
        ),
        "Change rejected.",
    )


@require_http_methods(["GET", "POST"])
@public_link_view(CustomerLink.Purpose.CHANGE_REQUEST)
def public_change_request(request, link: CustomerLink):
    """The customer's page for one change request: before and after, approve with a typed
    name, or reject with a reason. The link works once."""
    change = (
        ChangeRequest.objects.select_related("order", "order__customer")
        .filter(pk=link.target_id)
        .first()
    )
    if change is None:
        raise Http404("No such change request.")
    error, done = "", ""
    if request.method == "POST" and change.is_open and not link.is_used:
        action = request.POST.get("action")
        try:
            if action == "approve":
                services.approve_change_request(
                    change, by=None, name=request.POST.get("name", ""), link=link
                )
                done = "approved"
            elif action == "reject":
                services.reject_change_request(
                    change,
                    by=None,
                    name=request.POST.get("name", ""),
                    reason=request.POST.get("reason", ""),
                    link=link,
                )
                done = "rejected"
            else:
                error = "Choose approve or reject."
        except (ValidationError, services.OrderChanged) as exc:
            error = " ".join(getattr(exc, "messages", [str(exc)]))
        except LinkUsed:
            error = "This link has already been used."
        change.refresh_from_db()
    context = {
        "change": change,
        "order": change.order,
        "error": error,
        "done": done,
        "link_used": link.is_used or not change.is_open,
    }
    return render(request, "orders/change_public.html", context, status=422 if error else 200)
