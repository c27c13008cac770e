"""Public customer pages reached by signed links (no login): order tracking and invoices.

Each page shows the one document its link names and nothing else: no navigation, no
search, no ids that lead elsewhere. Invoice PDFs are served only for the link's own order.
"""

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from oms.links.models import CustomerLink
from oms.links.views import public_link_view
from orders.models import Order

# What the customer reads for each stage (staff wording stays on staff pages).
CUSTOMER_STAGES = {
    Order.Status.ENQUIRY: "Enquiry received",
    Order.Status.QUOTED: "Quote sent",
    Order.Status.CONFIRMED: "Order confirmed",
    Order.Status.IN_PROGRESS: "In progress",
    Order.Status.ON_HOLD: "On hold",
    Order.Status.DELIVERED: "Delivered",
    Order.Status.INVOICED: "Invoiced",
    Order.Status.PAID: "Paid, thank you",
    Order.Status.LOST: "Closed",
    Order.Status.CANCELLED: "Cancelled",
}
# The customer's journey, in order; a stage is done once the order has its timestamp.
JOURNEY = (
    ("Enquiry received", "enquiry_at"),
    ("Order confirmed", "confirmed_at"),
    ("Work started", "in_progress_at"),
    ("Delivered", "delivered_at"),
    ("Invoiced", "invoiced_at"),
    ("Paid", "paid_at"),
)
ISSUED_INVOICE_STATES = ("approved", "sent", "part_paid", "paid")


def _target(link: CustomerLink):
    try:
        return link.get_target()
    except (LookupError, ObjectDoesNotExist) as exc:  # the document is gone: no link
        raise Http404("No such document.") from exc


def _issued_invoices(order: Order):
    return (
        order.invoices.filter(status__in=ISSUED_INVOICE_STATES)
        .prefetch_related("payments")
        .order_by("issue_date", "id")
    )


@require_GET
@public_link_view(CustomerLink.Purpose.TRACKING)
def order_tracking(request, link: CustomerLink):
    """Where is my order? Stage, dates, proof of delivery and invoices, for one order."""
    order = _target(link)
    if not isinstance(order, Order):
        raise Http404("No such order.")
    order = Order.objects.select_related("customer").prefetch_related("lines").get(pk=order.pk)
    journey = [{"label": label, "at": getattr(order, attribute)} for label, attribute in JOURNEY]
    return render(
        request,
        "orders/order_tracking.html",
        {
            "company": settings.COMPANY,
            "order": order,
            "stage": CUSTOMER_STAGES[order.status],
            "journey": journey,
            "invoices": _issued_invoices(order),
            "token": link.token,
        },
    )


@require_GET
@public_link_view(CustomerLink.Purpose.TRACKING)
def tracking_invoice_pdf(request, link: CustomerLink, invoice_id: int):
    """One issued invoice of the tracked order, as a PDF."""
    order = _target(link)
    invoice = _issued_invoices(order).filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return _invoice_pdf_response(invoice)


@require_GET
@public_link_view(CustomerLink.Purpose.INVOICE)
def public_invoice(request, link: CustomerLink):
    """One invoice, as sent to the customer, with its PDF."""
    invoice = _public_invoice(link)
    return render(
        request,
        "orders/invoice_public.html",
        {"company": settings.COMPANY, "invoice": invoice, "token": link.token},
    )


@require_GET
@public_link_view(CustomerLink.Purpose.INVOICE)
def public_invoice_pdf(request, link: CustomerLink):
    return _invoice_pdf_response(_public_invoice(link))


def _public_invoice(link: CustomerLink):
    invoice_model = apps.get_model("invoicing", "Invoice")
    invoice = (
        invoice_model.objects.filter(pk=link.target_id, status__in=ISSUED_INVOICE_STATES)
        .select_related("order", "customer")
        .prefetch_related("lines", "payments")
        .first()
    )
    if invoice is None or link.target_type != "invoicing.invoice":
        raise Http404("No such invoice.")
    return invoice


def _invoice_pdf_response(invoice) -> HttpResponse:
    from oms.pdf import render_pdf

    pdf = render_pdf("links/invoice_pdf.html", {"invoice": invoice, "order": invoice.order})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response
