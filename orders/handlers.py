"""Order handlers: reactions to order events, each safe to run twice.

email_change_request (change_request.sent): email the customer's primary contact a signed,
single-use link to approve or reject the change, and write the email on the order's
timeline. The EmailLog key is the outbox event and the recipient, so one event never sends
a second email.
"""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from customers.models import Contact
from oms.automation.models import EmailLog
from oms.automation.services import send_email
from oms.links.services import change_request_url
from oms.outbox.models import OutboxEvent
from orders.models import ChangeRequest, TimelineEvent
from orders.services import record


def email_change_request(event: OutboxEvent) -> None:
    change = ChangeRequest.objects.select_related("order", "order__customer").get(
        pk=event.payload["change_request"]
    )
    if change.status != ChangeRequest.Status.AWAITING_CUSTOMER:
        return  # decided before the email went: nothing to ask
    order = change.order
    contact = order.customer.contact(Contact.Role.PRIMARY)
    if contact is None or not contact.email:
        return
    key = f"change-request-email:{event.pk}:{contact.email.lower()}"
    with transaction.atomic():
        if EmailLog.objects.filter(key=key).exists():
            return
        context = {
            "change": change,
            "order": order,
            "contact": contact,
            "link": change_request_url(change),
            "company": settings.COMPANY,
        }
        subject = f"Please approve a change to order {order.number}"
        text = render_to_string("orders/email_change_request.txt", context)
        html = render_to_string("orders/email_change_request.html", context)
        send_email(key=key, to=contact.email, subject=subject, text=text, html=html, order=order)
        record(
            order,
            kind=TimelineEvent.Kind.COMMUNICATION,
            automation="change request email",
            message=f"Change request emailed to {contact.email} for approval.",
            subject=subject,
            body=text,
            recipients=[contact.email],
            change_request=change.pk,
            event=event.pk,
        )
