"""The invoice (or credit note) as a branded PDF: the one document finance sends."""

from invoicing.models import Invoice
from oms.pdf import render_pdf


def invoice_pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number or f'draft-{invoice.pk}'}.pdf"


def render_invoice_pdf(invoice: Invoice, *, link: str = "") -> bytes:
    """The PDF with lines, totals, payment instructions, bank details and the order
    reference; `link` (the customer's invoice page) is printed when given."""
    return render_pdf(
        "invoicing/invoice_pdf.html",
        {
            "invoice": invoice,
            "order": invoice.order,
            "customer": invoice.customer,
            "lines": list(invoice.lines.all()),
            "link": link,
        },
    )
