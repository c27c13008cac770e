"""The quote document: a branded PDF rendered from templates/quotes/quote_pdf.html."""

from decimal import Decimal

from django.utils import timezone

from oms.pdf import render_pdf
from quotes.models import Quote


def quote_lines(quote: Quote) -> list[dict]:
    """The lines the customer is offered: the snapshot once sent, the order's lines before."""
    if quote.lines_snapshot:
        return [
            {
                **line,
                "quantity": Decimal(str(line["quantity"])),
                "unit_price": Decimal(str(line["unit_price"])),
                "discount_percent": Decimal(str(line.get("discount_percent") or 0)),
                "tax_rate": Decimal(str(line.get("tax_rate") or 0)),
                "net_amount": Decimal(str(line.get("net_amount") or 0)),
                "tax_amount": Decimal(str(line.get("tax_amount") or 0)),
            }
            for line in quote.lines_snapshot
        ]
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_rate": line.tax_rate,
            "net_amount": line.net_amount,
            "tax_amount": line.tax_amount,
        }
        for line in quote.order.lines.all()
    ]


def quote_totals(quote: Quote) -> dict[str, Decimal]:
    if quote.lines_snapshot:
        return {"net": quote.net_total, "tax": quote.tax_total, "gross": quote.gross_total}
    order = quote.order
    return {"net": order.net_total, "tax": order.tax_total, "gross": order.gross_total}


def quote_pdf_filename(quote: Quote) -> str:
    return f"Quote {quote.reference}.pdf"


def render_quote_pdf(quote: Quote, *, link: str = "") -> bytes:
    """The quote as the customer receives it; `link` is their acceptance page, if issued."""
    return render_pdf(
        "quotes/quote_pdf.html",
        {
            "quote": quote,
            "order": quote.order,
            "customer": quote.order.customer,
            "lines": quote_lines(quote),
            "totals": quote_totals(quote),
            "link": link,
            "issued_on": (quote.sent_at or timezone.now()).date(),
        },
    )
