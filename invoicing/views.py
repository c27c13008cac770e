"""Finance pages: the draft review queue, an invoice, overdue and aged receivables.

Each view checks access, parses input, calls one service or query and chooses a page or a
partial. Only finance (and managers) reach these pages; others get 403.
"""

import csv
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from invoicing import queries, services
from invoicing.forms import CreditNoteForm, InvoiceLineFormSet, PaymentForm, ReasonForm
from invoicing.models import Invoice
from invoicing.pdf import invoice_pdf_filename, render_invoice_pdf
from oms.accounts.roles import Role, has_role
from oms.links.models import CustomerLink
from oms.links.views import public_link_view
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
def invoice_drafts(request: HttpRequest) -> HttpResponse:
    invoices = list(queries.draft_review_queue(request.user))
    now = timezone.now()
    for invoice in invoices:
        invoice.lag_days = (now - invoice.delivered_at).days if invoice.delivered_at else None
    return render(request, "invoicing/invoice_drafts.html", {"invoices": invoices})


@require_GET
@finance_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
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
                if line.deducted_invoice_id is None
            ]
        )
    return render(
        request,
        "invoicing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": lines,
            "payments": list(invoice.payments.all()),
            # Finance approves against the evidence that the work was delivered.
            "proofs": list(invoice.order.proofs.select_related("delivered_by")),
            "formset": formset,
            "payment_form": PaymentForm(invoice=invoice),
            "credit_form": CreditNoteForm(),
            "reason_form": ReasonForm(),
        },
    )


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
def invoice_overdue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    invoices = list(queries.overdue_invoices(today))
    return render(request, "invoicing/invoice_overdue.html", {"invoices": invoices, "today": today})


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
