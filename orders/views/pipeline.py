"""The managers' pipeline: where orders wait, what they are worth, which have stalled."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from oms.accounts.roles import Role, has_role
from orders import queries

TEMPLATE = "orders/order_pipeline.html"
PAGE_SIZE = 50


@require_GET
@login_required
@vary_on_headers("HX-Request")
def order_pipeline(request):
    """Board (a column per stage) or list (every open order, stalled first), with the
    count, value and time in stage of each stage on top."""
    if not has_role(request.user, Role.MANAGER):
        raise PermissionDenied("The pipeline is for managers.")
    view = "list" if request.GET.get("view") == "list" else "board"
    context = {
        "view": view,
        "summary": queries.pipeline_summary(request.user),
        "stages": queries.PIPELINE_STAGES,
    }
    if view == "board":
        board = queries.pipeline_board(request.user)
        context["columns"] = [
            {"stage": row, "orders": board[row["status"]]} for row in context["summary"]
        ]
    else:
        stage = request.GET.get("stage", "")
        stage = stage if stage in queries.PIPELINE_STAGES else ""
        owner = request.GET.get("owner", "")
        owner_id = int(owner) if owner.isdigit() else None
        stalled_only = request.GET.get("stalled") == "1"
        context.update(
            page=queries.pipeline_page(
                request.user,
                page_number=request.GET.get("page"),
                per_page=PAGE_SIZE,
                stage=stage,
                owner_id=owner_id,
                stalled_only=stalled_only,
            ),
            owners=queries.pipeline_owners(request.user),
            filters={"stage": stage, "owner": owner_id, "stalled": stalled_only},
        )
    partial = f"pipeline-{view}"
    if request.htmx and request.GET.get("partial") == partial:
        return render(request, f"{TEMPLATE}#{partial}", context)
    return render(request, TEMPLATE, context)
