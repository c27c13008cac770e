"""Rule templates: safe placeholders rendered with Django's template engine in a sandbox.

Managers write subjects and bodies with placeholders such as {{ customer_name }}. They are
rendered by an engine that can load no template files and no tag libraries, against a fixed
dict of plain strings, so a template can show only these values and reach nothing else.
The HTML twin escapes every value.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import VariableNode
from django.template.loader import render_to_string

# Every placeholder a rule may use, with what it means (shown on the rule editor).
PLACEHOLDERS = {
    "customer_name": "Customer company name",
    "contact_name": "Name of the person the email goes to",
    "order_number": "Order number",
    "order_title": "Order title",
    "order_status": "Order status",
    "order_details": "Order lines, dates and address, one per line",
    "owner_name": "Salesperson who owns the order",
    "quote_number": "Quote reference",
    "valid_until": "Date the quote is valid until",
    "invoice_number": "Invoice number",
    "due_date": "Invoice due date",
    "days_overdue": "Days the invoice is overdue",
    "amount": "Quote or invoice total (or order total)",
    "amount_due": "Amount still owing on the invoice",
    "reason": "Reason given (hold, cancellation, loss)",
    "link": "Link: customer tracking page, or the order page for staff",
    "company_name": "Our company name",
}

# No loaders, no dirs, no libraries: {% include %}, {% extends %} and {% load %} find nothing.
_ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, debug=False)
_ALLOWED_TAGS = {"if", "elif", "else", "endif", "for", "empty", "endfor", "firstof"}
_ALLOWED_FILTERS = {
    "default",
    "upper",
    "lower",
    "title",
    "capfirst",
    "truncatewords",
    "truncatechars",
    "pluralize",
    "yesno",
    "linebreaksbr",
}
_TAG = re.compile(r"\{%-?\s*(\w+)")
_FILTER = re.compile(r"\|\s*(\w+)")


def money(amount: Decimal | None, currency: str = "") -> str:
    if amount is None:
        return ""
    return f"{currency} {Decimal(amount):,.2f}".strip()


def check_template(source: str) -> None:
    """Raise ValueError with a readable sentence if `source` is not a safe rule template.

    Only simple tags and escaping-preserving filters are allowed (no |safe, no autoescape,
    no include or load), and only the known placeholders."""
    for tag in _TAG.findall(source):
        if tag not in _ALLOWED_TAGS:
            raise ValueError(f"The {{% {tag} %}} tag is not allowed in messages.")
    for name in _FILTER.findall(source):
        if name not in _ALLOWED_FILTERS:
            raise ValueError(f"The |{name} filter is not allowed in messages.")
    try:
        template = _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"The template has an error: {exc}") from exc
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        var = node.filter_expression.var
        root = str(getattr(var, "var", var)).split(".")[0]
        if root not in PLACEHOLDERS:
            raise ValueError(f"Unknown placeholder {{{{ {root} }}}}.")


def render(source: str, values: dict[str, str], *, html: bool) -> str:
    context = {name: str(values.get(name, "")) for name in PLACEHOLDERS}
    return _ENGINE.from_string(source).render(Context(context, autoescape=html))


def render_email(subject: str, body: str, values: dict[str, str]) -> tuple[str, str, str]:
    """(subject, text, html) for one recipient; the twins share templates/emails/."""
    subject_line = " ".join(render(subject, values, html=False).split())
    text_body = render(body, values, html=False)
    html_body = render(body, values, html=True)
    common = {
        "company": settings.COMPANY,
        "link": values.get("link", ""),
        "subject": subject_line,
    }
    text = render_to_string("emails/automated.txt", {**common, "body": text_body})
    html = render_to_string("emails/automated.html", {**common, "body": html_body})
    return subject_line, text, html
