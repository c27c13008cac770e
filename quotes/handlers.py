"""Quote handlers: reactions to quote events, each safe to run twice.

email_quote (quote.sent, quote.resent): email the quote to the chosen contact with the PDF
attached and a signed link to the customer's acceptance page, and write the email (subject,
body, recipients, attachment name) on the order's timeline. The EmailLog key is the outbox
event and the recipient, so one event never sends a second email.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string

from oms.automation.models import EmailLog
from oms.automation.services import send_email
from oms.links.services import quote_url
from oms.outbox.models import OutboxEvent
from orders.models import TimelineEvent
from orders.services import record
from quotes.models import Quote
from quotes.pdf import quote_lines, quote_pdf_filename, quote_totals, render_quote_pdf


def email_quote(event: OutboxEvent) -> None:
    quote = Quote.objects.select_related("order", "order__customer", "order__owner").get(
        pk=event.subject_id
    )
    if quote.status != Quote.Status.SENT:
        return  # answered, superseded or expired before the email went: nothing to offer
    to = (event.payload.get("to") or quote.sent_to).strip()
    if not to:
        return
    key = f"quote-email:{event.pk}:{to.lower()}"
    with transaction.atomic():
        if EmailLog.objects.filter(key=key).exists():
            return
        order = quote.order
        link = quote_url(quote)
        contact = order.customer.contacts.filter(email__iexact=to).first()
        context = {
            "quote": quote,
            "order": order,
            "customer": order.customer,
            "contact": contact,
            "owner": order.owner,
            "link": link,
            "lines": quote_lines(quote),
            "totals": quote_totals(quote),
            "company": settings.COMPANY,
            "resent": event.kind == "quote.resent",
        }
        subject = " ".join(render_to_string("quotes/email_quote_subject.txt", context).split())
        text = render_to_string("quotes/email_quote.txt", context)
        html = render_to_string("quotes/email_quote.html", context)
        filename = quote_pdf_filename(quote)
        pdf = render_quote_pdf(quote, link=link)
        send_email(
            key=key,
            to=to,
            subject=subject,
            text=text,
            html=html,
            order=order,
            attachments=[(filename, pdf, "application/pdf")],
        )
        actor = get_user_model().objects.filter(pk=event.actor_id).first()
        record(
            order,
            kind=TimelineEvent.Kind.COMMUNICATION,
            by=actor,
            automation="quote email",
            message=f"Quote {quote.reference} emailed to {to}.",
            subject=subject,
            body=text,
            recipients=[to],
            attachment=filename,
            quote=quote.pk,
            event=event.pk,
        )
