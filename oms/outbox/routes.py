"""The routing table: what happens when something happens.

Like urls.py for events: one dict from event kind to the handler functions that react.
Every handler takes the OutboxEvent, loads what it names, calls a service, and is safe to
run twice. Handlers run one Celery task each, so one failing does not hold up the others.
"""

from collections.abc import Callable

from invoicing import handlers as invoicing
from invoicing.accounting import handlers as accounting
from oms.automation import handlers as automation
from oms.outbox.models import OutboxEvent
from oms.webhooks import handlers as webhooks
from orders import handlers as orders
from quotes import handlers as quotes

Handler = Callable[[OutboxEvent], object]

# Webhooks hear of new orders and of every kind the rules hear of; endpoints' subscriptions
# decide whether anything is sent.
_WEBHOOKS = [webhooks.queue_webhook_deliveries]
# Configurable rules (notifications, customer updates) react to every kind listed here;
# the rule table decides whether anything is sent.
_RULES = [automation.apply_event_rules, *_WEBHOOKS]

ROUTES: dict[str, list[Handler]] = {
    "order.created": [*_WEBHOOKS],
    "order.changed": [],
    "order.delivery_recorded": [],
    "order.assigned": [],
    "order.visit_scheduled": [],
    "milestone.signed_off": [invoicing.raise_milestone_invoice],
    "change_request.created": [],
    "change_request.sent": [orders.email_change_request, *_RULES],
    "change_request.approved": [*_RULES],
    "change_request.rejected": [*_RULES],
    "order.lines_changed": [],
    "order.quoted": [],
    "order.confirmed": [*_RULES],
    "order.lost": [automation.stop_quote_followups, *_RULES],
    "order.reopened": [],
    "order.started": [*_RULES],
    "order.held": [*_RULES],
    "order.resumed": [*_RULES],
    "order.delivered": [invoicing.draft_invoice, *_RULES],
    "order.reworked": [*_RULES],
    "order.invoiced": [*_RULES],
    "order.paid": [*_RULES],
    "order.billing_reopened": [],
    "order.cancelled": [automation.stop_quote_followups, *_RULES],
    "quote.drafted": [],
    "quote.sent": [quotes.email_quote, automation.start_quote_followups, *_RULES],
    "quote.resent": [quotes.email_quote, *_RULES],
    "quote.accepted": [automation.stop_quote_followups, *_RULES],
    "quote.declined": [automation.stop_quote_followups, *_RULES],
    "quote.superseded": [automation.stop_quote_followups],
    "quote.expired": [automation.stop_quote_followups, *_RULES],
    "quote.extended": [automation.start_quote_followups, *_RULES],
    "quote.followups_paused": [automation.pause_quote_followups],
    "quote.followups_resumed": [automation.resume_quote_followups],
    "invoice.drafted": [*_RULES],
    "invoice.updated": [],
    "invoice.approved": [automation.start_dunning, *_RULES, accounting.push_invoice_to_accounting],
    "invoice.sent": [invoicing.email_invoice, automation.start_dunning, *_RULES],
    "invoice.credited": [automation.review_dunning, *_RULES, accounting.push_invoice_to_accounting],
    "invoice.voided": [automation.stop_dunning, *_RULES, accounting.push_void_credit_to_accounting],
    "invoice.disputed": [automation.stop_dunning, *_RULES],
    "invoice.dispute_resolved": [automation.start_dunning, *_RULES],
    "invoice.promise_recorded": [automation.review_dunning, *_RULES],
    "link.revoked": [],
    "product.archived": [],
    # Spreadsheet imports are recorded, never announced: no emails for migrated data.
    "order.imported": [],
    "import.finished": [],
    "product.restored": [],
    "payment.recorded": [automation.review_dunning, *_RULES, accounting.push_payment_to_accounting],
    "customer_credit.received": [],
    "customer_credit.applied": [],
    "time_entry.recorded": [],
    "bank_statement.imported": [],
    "bank_line.ignored": [],
}


def handler_name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def handlers_for(kind: str) -> list[Handler]:
    """The handlers for `kind`; kinds nobody listed still reach the configurable rules."""
    return ROUTES.get(kind, _RULES)


def handler_named(kind: str, name: str) -> Handler:
    for handler in handlers_for(kind):
        if handler_name(handler) == name:
            return handler
    raise LookupError(f"No handler {name} routes from {kind}.")
