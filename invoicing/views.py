"""Finance pages: the draft review queue, an invoice, overdue and aged receivables.

Each view checks access, parses input, calls one service or query and chooses a page or a
partial. Only finance (and managers) reach these pages; others get 403.
"""

import csv
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from customers.models import Customer
from invoicing import queries, services
from invoicing.forms import (
    ApplyCreditForm,
    CreditNoteForm,
    DepositForm,
    InvoiceLineForm,
    InvoiceLineFormSet,
    MilestoneForm,
    PaymentForm,
    ReasonForm,
    ReceiptForm,
    TimeEntryForm,
)
from invoicing.models import CustomerCredit, Invoice
from invoicing.pdf import invoice_pdf_filename, render_invoice_pdf
from oms.accounts.roles import Role, has_role
from oms.links.models import CustomerLink
from oms.links.views import public_link_view
from orders.models import Order
from orders.services import OrderChanged


def finance_required(view):
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not has_role(request.user, Role.FINANCE):
            raise PermissionDenied("Only finance may open this page.")
        return view(request, *args, **kwargs)

    return wrapped


def _invoice(request: HttpRequest, pk: int) -> Invoice:
    return get_object_or_404(
        Invoice.objects.visible_to(request.user).select_related(
            "order", "customer", "credited_invoice"
        ),
        pk=pk,
    )


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


def _act(request: HttpRequest, invoice: Invoice, action, success: str) -> HttpResponse:
    try:
        action()
    except OrderChanged:
        messages.error(request, "This order changed, reload.")
    except ValidationError as error:
        messages.error(request, _messages(error))
    else:
        messages.success(request, success)
    return redirect("invoicing:detail", pk=invoice.pk)


@require_GET
@finance_required
@vary_on_headers("HX-Request")
def invoice_drafts(request: HttpRequest) -> HttpResponse:
    currency = _currency_filter(request)
    page = queries.draft_review_page(
        request.user, page_number=request.GET.get("page"), currency=currency
    )
    now = timezone.now()
    for invoice in page.object_list:
        invoice.lag_days = (now - invoice.delivered_at).days if invoice.delivered_at else None
    context = {
        "page": page,
        "invoices": page.object_list,
        "totals": queries.draft_review_totals(request.user),
        "currency": currency,
    }
    return _queue_page(request, "invoicing/invoice_drafts.html", "drafts-table", context)


def _currency_filter(request: HttpRequest) -> str:
    """A three-letter currency code from ?currency=, or "" for every currency."""
    currency = (request.GET.get("currency") or "").strip().upper()
    return currency if len(currency) == 3 and currency.isalpha() else ""


def _queue_page(request: HttpRequest, template: str, partial: str, context: dict) -> HttpResponse:
    """A paged queue: the whole page, or only its table when htmx asks for another page."""
    if request.htmx:
        return render(request, f"{template}#{partial}", context)
    return render(request, template, context)


DETAIL_TEMPLATE = "invoicing/invoice_detail.html"
DETAIL_PARTIALS = ("invoice-summary", "invoice-lines")


@require_GET
@finance_required
@vary_on_headers("HX-Request")
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    partial = request.GET.get("partial", "")
    if request.htmx and partial in DETAIL_PARTIALS:
        return render(request, f"{DETAIL_TEMPLATE}#{partial}", _detail_context(invoice))
    return render(request, DETAIL_TEMPLATE, _detail_context(invoice))


def _detail_context(invoice: Invoice, **extra) -> dict:
    lines = list(invoice.lines.all())
    formset = None
    if invoice.status == Invoice.Status.DRAFT and not invoice.is_credit_note:
        formset = InvoiceLineFormSet(
            initial=[
                {
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "discount_percent": line.discount_percent,
                    "tax_rate": line.tax_rate,
                }
                for line in lines
                if line.deducted_invoice_id is None and not line.bills_time
            ]
        )
    editable = invoice.status == Invoice.Status.DRAFT and not invoice.is_credit_note
    return {
        "invoice": invoice,
        "lines": lines,
        "editable": editable,
        "payments": list(invoice.payments.all()),
        # Finance approves against the evidence that the work was delivered.
        "proofs": list(invoice.order.proofs.select_related("delivered_by")),
        "formset": formset,
        "new_line_form": InvoiceLineForm(prefix="new") if editable else None,
        "payment_form": PaymentForm(invoice=invoice),
        "credit_form": CreditNoteForm(),
        "reason_form": ReasonForm(),
        "apply_credit_form": ApplyCreditForm(),
        "credit_balance": (
            CustomerCredit.objects.balance(invoice.customer_id, invoice.currency)
            if invoice.is_issued and not invoice.is_credit_note
            else None
        ),
        **extra,
    }


@require_POST
@finance_required
def invoice_edit_lines(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    formset = InvoiceLineFormSet(request.POST)
    if not formset.is_valid():
        messages.error(request, "Check the lines: every line needs a description and numbers.")
        return redirect("invoicing:detail", pk=invoice.pk)
    kept = [
        {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]
    return _act(
        request,
        invoice,
        lambda: services.update_draft_invoice_lines(invoice, kept, by=request.user),
        "Draft lines saved.",
    )


@require_POST
@finance_required
def invoice_approve(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    return _act(
        request,
        invoice,
        lambda: services.approve_invoice(invoice, by=request.user),
        "Invoice approved and numbered.",
    )


@require_POST
@finance_required
def invoice_send(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    return _act(
        request,
        invoice,
        lambda: services.send_invoice(invoice, by=request.user),
        "Invoice sent; the email goes out in a moment.",
    )


@require_POST
@finance_required
def invoice_record_payment(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = PaymentForm(request.POST, invoice=invoice)
    if not form.is_valid():
        errors = [e for field in form.errors.values() for e in field]
        messages.error(request, "Payment not recorded: " + " ".join(errors))
        return redirect("invoicing:detail", pk=invoice.pk)
    data = form.cleaned_data
    return _act(
        request,
        invoice,
        lambda: services.record_payment(
            invoice,
            by=request.user,
            amount=data["amount"],
            date=data["date"],
            method=data["method"],
            reference=data["reference"],
        ),
        "Payment recorded.",
    )


@require_POST
@finance_required
def invoice_credit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = CreditNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A credit note needs a reason and a positive amount.")
        return redirect("invoicing:detail", pk=invoice.pk)
    return _act(
        request,
        invoice,
        lambda: services.create_credit_note(
            invoice,
            by=request.user,
            reason=form.cleaned_data["reason"],
            amount=form.cleaned_data["amount"],
        ),
        "Credit note raised.",
    )


@require_POST
@finance_required
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    reason = request.POST.get("reason", "")
    return _act(
        request,
        invoice,
        lambda: services.void_invoice(invoice, by=request.user, reason=reason),
        "Invoice voided and credited.",
    )


@require_POST
@finance_required
def invoice_resolve_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    resolution = request.POST.get("reason", "")
    return _act(
        request,
        invoice,
        lambda: services.resolve_dispute(invoice, by=request.user, resolution=resolution),
        "Dispute resolved.",
    )


@require_GET
@finance_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice_pdf_filename(invoice)}"'
    return response


@require_GET
@finance_required
@vary_on_headers("HX-Request")
def invoice_overdue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    currency = _currency_filter(request)
    page = queries.overdue_page(today, page_number=request.GET.get("page"), currency=currency)
    context = {
        "page": page,
        "invoices": page.object_list,
        "totals": queries.overdue_totals(today),
        "currency": currency,
        "today": today,
    }
    return _queue_page(request, "invoicing/invoice_overdue.html", "overdue-table", context)


@require_GET
@finance_required
def invoice_receivables(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows, totals = queries.aged_receivables(today)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="receivables-{today}.csv"'
        writer = csv.writer(response)
        writer.writerow(
            ["Customer", "Currency", *(queries.AGE_LABELS[k] for k in queries.AGE_BUCKETS), "Total"]
        )
        for row in rows:
            writer.writerow(
                [
                    row["customer__name"],
                    row["currency"],
                    *(row[k] for k in queries.AGE_BUCKETS),
                    row["total"],
                ]
            )
        for currency, sums in totals.items():
            writer.writerow(
                ["Total", currency, *(sums[k] for k in queries.AGE_BUCKETS), sums["total"]]
            )
        return response
    return render(
        request,
        "invoicing/invoice_receivables.html",
        {
            "rows": rows,
            "totals": totals,
            "buckets": [(k, queries.AGE_LABELS[k]) for k in queries.AGE_BUCKETS],
            "dso": queries.days_sales_outstanding(today),
            "today": today,
        },
    )


@require_POST
@public_link_view(CustomerLink.Purpose.INVOICE)
def invoice_public_query(request: HttpRequest, link: CustomerLink) -> HttpResponse:
    """The customer queries the invoice from its signed link: a dispute opens, reminders
    pause, and finance sees it on the invoice and the order's timeline."""
    invoice = Invoice.objects.filter(pk=link.target_id).first()
    if invoice is None or link.target_type != "invoicing.invoice" or not invoice.is_issued:
        raise Http404("No such invoice.")
    text = (request.POST.get("reason") or "").strip()[:2000]
    try:
        services.dispute_invoice(invoice, by=None, reason=f"Customer query: {text}" if text else "")
    except ValidationError as error:
        notice = _messages(error)
    else:
        notice = "Thank you: we have your query and will come back to you."
    return render(
        request,
        "invoicing/invoice_query_received.html",
        {"invoice": invoice, "notice": notice, "company": settings.COMPANY},
    )


def _form_errors(form) -> str:
    return " ".join(
        (f"{form.fields[field].label or field.replace('_', ' ').capitalize()}: {error}")
        if field != "__all__"
        else error
        for field, errors in form.errors.items()
        for error in errors
    )


# --- draft lines, one at a time (htmx), the full form above still works without JS ---------


def _draft_line(invoice: Invoice, line_id: int):
    return get_object_or_404(
        invoice.lines.filter(deducted_invoice__isnull=True, bills_time=False), pk=line_id
    )


def _lines_response(request: HttpRequest, invoice: Invoice, **extra) -> HttpResponse:
    """The refreshed lines section; the summary (totals) refreshes on invoice-changed."""
    invoice = _invoice(request, invoice.pk)
    status = 400 if extra.get("line_error") else 200
    response = render(
        request,
        f"{DETAIL_TEMPLATE}#invoice-lines",
        _detail_context(invoice, **extra),
        status=status,
    )
    return trigger_client_event(response, "invoice-changed")


def _refusal(message: str):
    """An action that only refuses: the form was invalid before any service ran."""

    def refuse():
        raise ValidationError(message)

    return refuse


def _line_edit(request: HttpRequest, invoice: Invoice, action, success: str) -> HttpResponse:
    """Run one line edit; htmx gets the lines section back, a plain form a redirect."""
    error = None
    try:
        action()
    except OrderChanged:
        error = "This order changed, reload."
    except ValidationError as refusal:
        error = _messages(refusal)
    if request.htmx:
        return _lines_response(
            request, invoice, line_error=error, line_notice=not error and success
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect("invoicing:detail", pk=invoice.pk)


@require_http_methods(["GET", "POST"])
@finance_required
def invoice_line_edit(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    """GET: the line's row as a form (htmx) or the invoice page; POST: save the line."""
    invoice = _invoice(request, pk)
    line = _draft_line(invoice, line_id)
    if request.method == "GET":
        if not request.htmx:
            return redirect(reverse("invoicing:detail", args=[invoice.pk]) + "#invoice-lines-form")
        form = InvoiceLineForm(
            prefix=f"line-{line.pk}",
            initial={
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "tax_rate": line.tax_rate,
            },
        )
        return render(
            request,
            f"{DETAIL_TEMPLATE}#invoice-line-form",
            {"invoice": invoice, "line": line, "form": form},
        )
    form = InvoiceLineForm(request.POST, prefix=f"line-{line.pk}")
    if not form.is_valid():
        return _line_edit(request, invoice, _refusal(_form_errors(form)), "")
    return _line_edit(
        request,
        invoice,
        lambda: services.update_draft_invoice_line(
            invoice, line.pk, form.cleaned_data, by=request.user
        ),
        "Line saved.",
    )


@require_GET
@finance_required
def invoice_line_row(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    """The line's row as shown (cancelling an in-place edit)."""
    invoice = _invoice(request, pk)
    line = get_object_or_404(invoice.lines.all(), pk=line_id)
    if not request.htmx:
        return redirect("invoicing:detail", pk=invoice.pk)
    editable = invoice.status == Invoice.Status.DRAFT and not invoice.is_credit_note
    return render(
        request,
        f"{DETAIL_TEMPLATE}#invoice-line",
        {"invoice": invoice, "line": line, "editable": editable},
    )


@require_POST
@finance_required
def invoice_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = InvoiceLineForm(request.POST, prefix="new")
    if not form.is_valid():
        return _line_edit(request, invoice, _refusal(_form_errors(form)), "")
    return _line_edit(
        request,
        invoice,
        lambda: services.add_draft_invoice_line(invoice, form.cleaned_data, by=request.user),
        "Line added.",
    )


@require_POST
@finance_required
def invoice_line_remove(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    line = _draft_line(invoice, line_id)
    return _line_edit(
        request,
        invoice,
        lambda: services.remove_draft_invoice_line(invoice, line.pk, by=request.user),
        "Line removed.",
    )


# --- customer credit ---------------------------------------------------------------------


@require_POST
@finance_required
def invoice_apply_credit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = ApplyCreditForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Credit not applied: " + _form_errors(form))
        return redirect("invoicing:detail", pk=invoice.pk)
    return _act(
        request,
        invoice,
        lambda: services.apply_customer_credit(
            invoice, by=request.user, amount=form.cleaned_data["amount"]
        ),
        "Customer credit applied.",
    )


def _customer(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)


def _billing_page(request: HttpRequest, customer: Customer, **extra) -> HttpResponse:
    context = {
        "customer": customer,
        "balances": CustomerCredit.objects.balances(customer),
        "entries": list(
            CustomerCredit.objects.filter(customer=customer).select_related(
                "invoice", "receipt", "recorded_by"
            )[:50]
        ),
        "open_invoices": list(queries.open_invoices_for_customer(customer)),
        "receipts": list(queries.receipts_for_customer(customer)[:20]),
        "form": extra.pop("form", None)
        or ReceiptForm(initial={"currency": customer.currency, "date": timezone.localdate()}),
        **extra,
    }
    return render(
        request,
        "invoicing/customer_billing.html",
        context,
        status=400 if extra.get("error") else 200,
    )


@require_GET
@finance_required
def customer_billing(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's money: credit balance and its ledger, open invoices, receipts, and the
    form to record one receipt across their invoices."""
    return _billing_page(request, _customer(request, pk))


@require_POST
@finance_required
def customer_receive_payment(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = ReceiptForm(request.POST)
    if not form.is_valid():
        return _billing_page(request, customer, form=form, error=_form_errors(form))
    allocations = {
        key.removeprefix("alloc-"): value.strip()
        for key, value in request.POST.items()
        if key.startswith("alloc-") and value.strip()
    }
    data = form.cleaned_data
    try:
        if any(not key.isdigit() for key in allocations):
            raise ValidationError("One of the invoices does not exist.")
        receipt = services.receive_payment(
            customer,
            by=request.user,
            amount=data["amount"],
            currency=data["currency"],
            allocations=allocations,
            date=data["date"],
            method=data["method"],
            reference=data["reference"],
        )
    except OrderChanged:
        return _billing_page(request, customer, form=form, error="An order changed; reload.")
    except ValidationError as refusal:
        return _billing_page(request, customer, form=form, error=_messages(refusal))
    credit = receipt.amount - sum((p.amount for p in receipt.payments.all()), Decimal("0.00"))
    messages.success(
        request,
        f"{receipt} recorded"
        + (f"; {receipt.currency} {credit} kept as customer credit." if credit else "."),
    )
    return redirect("invoicing:customer_billing", pk=customer.pk)


# --- from the order page: time, deposits and milestones --------------------------------


def _order(request: HttpRequest, number: str) -> Order:
    return get_object_or_404(Order.objects.visible_to(request.user), number=number)


def _back_to_order(order: Order) -> HttpResponse:
    return redirect(reverse("orders:detail", args=[order.number]) + "#order-billing")


@require_POST
@login_required
def order_time_entry(request: HttpRequest, number: str) -> HttpResponse:
    if not has_role(request.user, Role.OPERATIONS, Role.FINANCE):
        raise PermissionDenied("Only operations or finance may record time.")
    order = _order(request, number)
    form = TimeEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Time not recorded: " + _form_errors(form))
        return _back_to_order(order)
    try:
        services.record_time_entry(order, by=request.user, **form.cleaned_data)
    except OrderChanged:
        messages.error(request, "This order changed, reload.")
    except ValidationError as refusal:
        messages.error(request, "Time not recorded: " + _messages(refusal))
    else:
        messages.success(request, "Time recorded; it is billed on the order's next invoice.")
    return _back_to_order(order)


def _raise_staged(request: HttpRequest, order: Order, form, create) -> HttpResponse:
    if not form.is_valid():
        messages.error(request, "Invoice not raised: " + _form_errors(form))
        return _back_to_order(order)
    try:
        invoice = create(form.cleaned_data)
    except OrderChanged:
        messages.error(request, "This order changed, reload.")
    except ValidationError as refusal:
        messages.error(request, "Invoice not raised: " + _messages(refusal))
    else:
        messages.success(request, f"{invoice} drafted; review and approve it.")
        return redirect("invoicing:detail", pk=invoice.pk)
    return _back_to_order(order)


@require_POST
@finance_required
def order_deposit(request: HttpRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    return _raise_staged(
        request,
        order,
        DepositForm(request.POST),
        lambda data: services.create_deposit_invoice(
            order, by=request.user, percent=data["percent"], amount=data["amount"]
        ),
    )


@require_POST
@finance_required
def order_milestone(request: HttpRequest, number: str) -> HttpResponse:
    order = _order(request, number)
    return _raise_staged(
        request,
        order,
        MilestoneForm(request.POST),
        lambda data: services.create_milestone_invoice(
            order, by=request.user, description=data["description"], amount=data["amount"]
        ),
    )
