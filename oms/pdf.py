"""render_pdf(): HTML templates to PDF bytes with WeasyPrint, shared by quotes and invoices."""

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render `template_name` with `context` and return the PDF document's bytes.

    Relative URLs in the template (the logo, a stylesheet) resolve against the project
    directory, so nothing is fetched over the network.
    """
    from weasyprint import HTML  # heavy import: only where a PDF is actually made

    html = render_to_string(template_name, {"company": settings.COMPANY, **context})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
