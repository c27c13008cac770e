"""Import and export views: upload, match columns, preview, run and follow an import;
download lists as CSV or Excel; the product catalogue list."""

import contextlib
import csv
import io
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from customers.queries import customer_list
from oms.accounts.roles import Role, has_role
from oms.imports import exports, queries, services
from oms.imports.forms import MappingForm, RunForm, UploadForm
from oms.imports.models import ImportJob

PREVIEW_ERRORS_SHOWN = 500


def _ensure_may_import(user) -> None:
    if not services.may_import(user):
        raise PermissionDenied


def _job(request, pk: int) -> ImportJob:
    _ensure_may_import(request.user)
    return get_object_or_404(
        ImportJob.objects.visible_to(request.user).select_related("created_by"), pk=pk
    )


@require_http_methods(["GET", "POST"])
@login_required
def import_start(request):
    """Step 1: choose what the file holds and upload it; recent imports below."""
    _ensure_may_import(request.user)
    kinds = services.importable_kinds(request.user)
    form = UploadForm(
        request.POST or None, request.FILES or None, kinds=kinds, initial=request.GET.dict()
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.start_import(
                    kind=form.cleaned_data["kind"],
                    name=upload.name,
                    data=upload.read(),
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                return redirect("imports:mapping", pk=job.pk)
        status = 400
    context = {"form": form, "jobs": queries.recent_imports(request.user)}
    return render(request, "imports/import_start.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def import_mapping(request, pk: int):
    """Step 2: match the file's columns to the fields; guessed, or as last time."""
    job = _job(request, pk)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect("imports:detail", pk=job.pk)
    form = MappingForm(
        request.POST or None,
        kind=job.kind,
        headers=job.headers,
        sample=job.sample,
        initial=job.mapping,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_mapping(job, form.mapping(), by=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("imports:preview", pk=job.pk)
        status = 400
    return render(request, "imports/import_mapping.html", {"job": job, "form": form}, status=status)


@require_GET
@login_required
def import_preview(request, pk: int):
    """Step 3: the first rows as they will be imported, and every invalid row with why."""
    job = _job(request, pk)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect("imports:detail", pk=job.pk)
    try:
        plan = services.preview_import(job)
    except ValidationError as exc:
        context = {"job": job, "problem": " ".join(exc.messages)}
        return render(request, "imports/import_preview.html", context, status=400)
    context = {
        "job": job,
        "plan": plan,
        "errors": plan.errors[:PREVIEW_ERRORS_SHOWN],
        "more_errors": max(0, len(plan.errors) - PREVIEW_ERRORS_SHOWN),
        "counts": {action: plan.count(action) for action in ("create", "update", "unchanged")},
        "form": RunForm(),
    }
    return render(request, "imports/import_preview.html", context)


@require_POST
@login_required
def import_run(request, pk: int):
    """Step 4: run now (small files) or in the worker (large ones), then follow it."""
    job = _job(request, pk)
    form = RunForm(request.POST)
    form.is_valid()
    # Already started (a second click): its page says how it went.
    with contextlib.suppress(ValidationError):
        services.queue_import(
            job, by=request.user, skip_invalid=form.cleaned_data.get("skip_invalid", False)
        )
    return redirect("imports:detail", pk=job.pk)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def import_detail(request, pk: int):
    """An import's progress (polled while it runs) and, at the end, its summary."""
    job = _job(request, pk)
    context = {
        "job": job,
        "done": queries.rows_done(job),
        "percent": queries.progress_percent(job),
        "errors": job.errors[:PREVIEW_ERRORS_SHOWN],
        "more_errors": max(0, len(job.errors) - PREVIEW_ERRORS_SHOWN),
    }
    template = "imports/import_detail.html"
    if request.htmx:
        template += "#import-progress"
    return render(request, template, context)


@require_GET
@login_required
def import_summary_csv(request, pk: int):
    """The summary as CSV: the counts, then every skipped or invalid row with its reason.
    Before the import runs it lists what the preview found."""
    job = _job(request, pk)
    if job.status == ImportJob.Status.UPLOADED:
        try:
            plan = services.preview_import(job)
        except ValidationError as exc:
            errors = [{"row": "", "message": " ".join(exc.messages)}]
        else:
            errors = [{"row": e.row, "message": e.message} for e in plan.errors]
    else:
        errors = job.errors
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["Import", job.pk, exports.neutralise(job.original_name), job.get_status_display()]
    )
    for label, value in (
        ("Rows", job.total_rows),
        ("Created", job.created_count),
        ("Updated", job.updated_count),
        ("Unchanged", job.unchanged_count),
        ("Skipped", job.skipped_count),
    ):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow(["Row", "Reason"])
    for error in errors:
        writer.writerow([error["row"], exports.neutralise(error["message"])])
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type=exports.CSV_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-summary.csv"'
    return response


# --- exports ---------------------------------------------------------------------------------

EXPORT_ROLES = (Role.SALES, Role.OPERATIONS, Role.FINANCE)


@require_GET
@login_required
def export_list(request, kind: str, fmt: str):
    """A list page's rows, with its filters, as CSV or Excel."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    if not has_role(request.user, *EXPORT_ROLES):
        raise PermissionDenied
    q = request.GET.get("q", "").strip()[:200]
    if kind == "customers":
        records = customer_list(
            request.user,
            q=q,
            segment=request.GET.get("segment", ""),
            archived=request.GET.get("archived") == "1",
        )
        headers, rows = exports.CUSTOMER_HEADERS, exports.customer_rows(records)
    elif kind == "products":
        records = queries.product_list(q=q, status=request.GET.get("status", "active"))
        headers, rows = exports.PRODUCT_HEADERS, exports.product_rows(records)
    elif kind == "orders":
        records = queries.order_list(request.user, q=q)
        headers, rows = exports.ORDER_HEADERS, exports.order_rows(records)
    else:
        raise Http404
    if fmt == "csv":
        body, content_type = exports.to_csv(headers, rows), exports.CSV_TYPE
    else:
        body, content_type = exports.to_xlsx(headers, rows, title=kind), exports.XLSX_TYPE
    response = HttpResponse(body, content_type=content_type)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.{fmt}"'
    return response


@require_GET
@login_required
def product_list(request):
    """The catalogue: search by code or name, active or archived, export or import."""
    if not has_role(request.user, *EXPORT_ROLES):
        raise PermissionDenied
    q = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "active")
    page = Paginator(queries.product_list(q=q, status=status), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": q,
        "status": status,
        "export_query": urlencode({"q": q, "status": status}),
        "may_import": services.may_import(request.user, "products"),
        "statuses": [("active", "Active"), ("archived", "Archived"), ("all", "All")],
    }
    return render(request, "imports/product_list.html", context)
