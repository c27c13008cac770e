"""Bank statement pages for finance: upload, review each line, confirm or set aside.

Each action answers with the line's row (htmx) or a redirect back to the statement.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from customers.models import Customer
from invoicing.banking import queries, services
from invoicing.banking.forms import IgnoreForm, LineChangeForm, StatementUploadForm
from invoicing.banking.models import BankLine, BankStatement
from invoicing.views import finance_required
from orders.services import OrderChanged


@require_GET
@finance_required
def statement_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "banking/statement_list.html",
        {"statements": list(queries.statements()), "form": StatementUploadForm()},
    )


@require_POST
@finance_required
def statement_upload(request: HttpRequest) -> HttpResponse:
    form = StatementUploadForm(request.POST, request.FILES)
    error = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            statement = services.import_statement(
                by=request.user,
                filename=upload.name,
                content=upload.read(),
                currency=form.cleaned_data["currency"],
            )
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(
                request,
                f"Imported {statement.lines.count()} money-in lines; nothing is recorded "
                "until you confirm them.",
            )
            return redirect("banking:statement", pk=statement.pk)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    return render(
        request,
        "banking/statement_list.html",
        {"statements": list(queries.statements()), "form": form, "upload_error": error},
        status=400,
    )


@require_GET
@finance_required
@vary_on_headers("HX-Request")
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page; htmx asks for the progress line after each decision."""
    statement = get_object_or_404(BankStatement, pk=pk)
    if request.htmx and request.GET.get("partial") == "statement-progress":
        return render(
            request,
            "banking/statement_detail.html#statement-progress",
            {"statement": statement, "open_count": statement.lines.outstanding().count()},
        )
    lines = list(queries.statement_lines(statement))
    return render(
        request,
        "banking/statement_detail.html",
        {
            "statement": statement,
            "lines": lines,
            "open_count": sum(1 for line in lines if line.is_open),
        },
    )


def _line_action(request: HttpRequest, pk: int, action, success: str) -> HttpResponse:
    line = get_object_or_404(BankLine.objects.select_related("statement"), pk=pk)
    try:
        line = action(line)
    except OrderChanged:
        error = "An invoice's order changed meanwhile; reload and try again."
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    else:
        error = None
    status = 400 if error else 200
    if request.htmx:
        line = queries.statement_lines(line.statement).get(pk=line.pk)
        response = render(
            request,
            "banking/statement_detail.html#bank-line",
            {"line": line, "line_error": error, "line_notice": None if error else success},
            status=status,
        )
        return trigger_client_event(response, "bank-line-changed")
    if error:
        messages.error(request, f"Row {line.row_number}: {error}")
    else:
        messages.success(request, f"Row {line.row_number}: {success}")
    return redirect("banking:statement", pk=line.statement_id)


@require_POST
@finance_required
def line_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_action(
        request,
        pk,
        lambda line: services.confirm_line(line, by=request.user),
        "payment recorded.",
    )


@require_POST
@finance_required
def line_change(request: HttpRequest, pk: int) -> HttpResponse:
    form = LineChangeForm(request.POST)
    form.is_valid()
    data = form.cleaned_data

    def change(line):
        numbers = data.get("invoice_numbers", "")
        name = (data.get("customer_name") or "").strip()
        customer = None
        if name:
            customer = Customer.objects.filter(name__iexact=name).order_by("pk").first()
            if customer is None:
                raise ValidationError(f"No customer is called “{name}”.")
        elif not numbers:
            customer = line.customer  # the payer the import recognised
        return services.change_line(
            line, by=request.user, invoice_numbers=numbers, customer=customer
        )

    return _line_action(request, pk, change, "match changed; confirm it to record the payment.")


@require_POST
@finance_required
def line_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_action(
        request,
        pk,
        lambda line: services.reject_line(line, by=request.user),
        "proposal rejected; the line stays unmatched.",
    )


@require_POST
@finance_required
def line_ignore(request: HttpRequest, pk: int) -> HttpResponse:
    form = IgnoreForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _line_action(
        request,
        pk,
        lambda line: services.ignore_line(line, by=request.user, reason=reason),
        "ignored.",
    )
