"""Who may open what: every URL name in the project and the status each role gets.

ADDING A URL? Add ONE row here, or tests/test_access_matrix.py fails:

    "app:name": row(anonymous, sales, operations, finance, manager, admin),

Columns are the HTTP status each role gets (302 for anonymous means "sent to log in").
A URL with arguments adds `kwargs=lambda o: {...}`, built from the objects in `UrlObjects`
below (o.order, o.quote, o.invoice, o.customer, o.contact, o.product, o.reset ...). A
POST-only URL adds `method="post"` (and `data={...}` if the view needs a form). Each
role's request runs against fresh objects, so a POST by one role never affects another.

A URL taking a customer's `token` also needs a CUSTOMER_LINKS row (below); a URL with an
id or number needs an ID-swap row in tests/security/test_id_swap.py; a view reading
request.FILES an UPLOADS row in tests/security/test_hostile_input.py.
"""

from collections.abc import Callable
from functools import cached_property
from typing import Any, NamedTuple

ROLES = ("anonymous", "sales", "operations", "finance", "manager", "admin")


class Access(NamedTuple):
    anonymous: int
    sales: int
    operations: int
    finance: int
    manager: int
    admin: int
    kwargs: Callable[["UrlObjects"], dict[str, Any]] | None = None
    method: str = "get"
    data: dict[str, Any] | None = None


row = Access

# fmt: off
ACCESS: dict[str, Access] = {
    # accounts
    "accounts:home": row(302, 200, 200, 200, 200, 200),
    "accounts:health": row(200, 200, 200, 200, 200, 200),
    "accounts:preferences": row(302, 200, 200, 200, 200, 200),
    "accounts:login": row(200, 302, 302, 302, 302, 302),
    "accounts:logout": row(302, 302, 302, 302, 302, 302, method="post"),
    "accounts:password_reset": row(200, 200, 200, 200, 200, 200),
    "accounts:password_reset_done": row(200, 200, 200, 200, 200, 200),
    "accounts:password_reset_confirm": row(302, 302, 302, 302, 302, 302, kwargs=lambda o: o.reset),
    "accounts:password_reset_complete": row(200, 200, 200, 200, 200, 200),
    "accounts:otp_verify": row(302, 302, 302, 302, 302, 302),
    "accounts:otp_setup": row(302, 200, 200, 200, 200, 200),
    # audit log: administrators only
    "audit:log": row(302, 403, 403, 403, 403, 200),
    # automation
    "automation:inbox": row(302, 200, 200, 200, 200, 200),
    "automation:badge": row(302, 200, 200, 200, 200, 200),
    "automation:read_all": row(302, 302, 302, 302, 302, 302, method="post"),
    "automation:notification_read": row(302, 404, 404, 404, 404, 404, kwargs=lambda o: {"pk": 0}, method="post"),  # noqa: E501
    "automation:rules": row(302, 403, 403, 403, 200, 200),
    "automation:rule_create": row(302, 403, 403, 403, 200, 200),
    "automation:rule_edit": row(302, 403, 403, 403, 200, 200, kwargs=lambda o: {"pk": o.rule.pk}),
    "automation:rule_toggle": row(302, 403, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.rule.pk}, method="post"),  # noqa: E501
    "automation:decisions": row(302, 200, 403, 403, 200, 200),
    # customers
    "customers:typeahead": row(302, 200, 403, 403, 200, 200),
    "customers:list": row(302, 200, 200, 200, 200, 200),
    # imports (sales may import customers; an import is seen by its uploader and managers)
    "imports:start": row(302, 200, 403, 403, 200, 200),
    "imports:mapping": row(302, 404, 403, 403, 404, 404, kwargs=lambda o: {"pk": 0}),
    "imports:preview": row(302, 404, 403, 403, 404, 404, kwargs=lambda o: {"pk": 0}),
    "imports:run": row(302, 404, 403, 403, 404, 404, kwargs=lambda o: {"pk": 0}, method="post"),
    "imports:detail": row(302, 404, 403, 403, 404, 404, kwargs=lambda o: {"pk": 0}),
    "imports:summary_csv": row(302, 404, 403, 403, 404, 404, kwargs=lambda o: {"pk": 0}),
    "imports:export": row(302, 200, 200, 200, 200, 200, kwargs=lambda o: {"kind": "orders", "fmt": "xlsx"}),  # noqa: E501
    "imports:products": row(302, 200, 200, 200, 200, 200),
    # orders
    "orders:enquiries": row(302, 200, 403, 403, 200, 200),
    "orders:enquiry_create": row(302, 200, 403, 403, 200, 200),
    "orders:team_enquiries": row(302, 403, 403, 403, 200, 200),
    "orders:enquiry_confirm": row(302, 302, 302, 302, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post"),  # noqa: E501
    "orders:search": row(302, 200, 200, 200, 200, 200),
    "orders:pipeline": row(302, 403, 403, 403, 200, 200),
    "orders:metrics": row(302, 403, 403, 403, 200, 200),
    "orders:metrics_export": row(302, 403, 403, 403, 200, 200, kwargs=lambda o: {"table": "funnel"}),  # noqa: E501
    "orders:detail": row(302, 200, 200, 200, 200, 200, kwargs=lambda o: {"number": o.order.number}),
    "orders:transition": row(302, 302, 302, 302, 302, 302, kwargs=lambda o: {"number": o.order.number, "name": "confirm"}, method="post", data={"status": "enquiry"}),  # noqa: E501
    "orders:link_issue": row(302, 302, 302, 302, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post"),  # noqa: E501
    "orders:link_revoke": row(302, 404, 404, 404, 404, 404, kwargs=lambda o: {"number": o.order.number, "link_id": 0}, method="post"),  # noqa: E501
    # public customer pages: the signed link is the key, a login changes nothing
    # operations and fulfilment (the order is an enquiry owned by sales)
    "orders:queue": row(302, 403, 200, 403, 200, 200),
    "orders:dispatch": row(302, 403, 200, 403, 200, 200),
    "orders:assign": row(302, 403, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post", data={"assignee": ""}),  # noqa: E501
    "orders:production_run": row(302, 403, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post", data={"run_status": "planned"}),  # noqa: E501
    "orders:line_delivery": row(302, 403, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post"),  # noqa: E501
    "orders:fulfilment": row(302, 200, 200, 200, 200, 200, kwargs=lambda o: {"number": o.order.number}),  # noqa: E501
    "orders:milestone_add": row(302, 302, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post", data={"description": "Design", "amount": "10"}),  # noqa: E501
    "orders:milestone_sign_off": row(302, 403, 404, 403, 404, 404, kwargs=lambda o: {"number": o.order.number, "milestone_id": 0}, method="post"),  # noqa: E501
    "orders:visit_schedule": row(302, 403, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post"),  # noqa: E501
    "orders:job_sheet": row(302, 403, 200, 403, 200, 200, kwargs=lambda o: {"number": o.order.number}),  # noqa: E501
    "orders:job_note": row(302, 403, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post", data={"note": "Arrived on site"}),  # noqa: E501
    "orders:photo_upload": row(302, 403, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post"),  # noqa: E501
    "orders:job_sign_off": row(302, 403, 302, 403, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post"),  # noqa: E501
    "orders:attachment": row(302, 404, 404, 404, 404, 404, kwargs=lambda o: {"number": o.order.number, "attachment_id": 0}),  # noqa: E501
    "orders:change_create": row(302, 200, 200, 403, 200, 200, kwargs=lambda o: {"number": o.order.number}),  # noqa: E501
    "orders:change_send": row(302, 404, 404, 403, 404, 404, kwargs=lambda o: {"number": o.order.number, "change_id": 0}, method="post"),  # noqa: E501
    "orders:change_approve": row(302, 404, 404, 403, 404, 404, kwargs=lambda o: {"number": o.order.number, "change_id": 0}, method="post"),  # noqa: E501
    "orders:change_reject": row(302, 404, 404, 403, 404, 404, kwargs=lambda o: {"number": o.order.number, "change_id": 0}, method="post"),  # noqa: E501
    # the customer's change-request page: the signed link is the key
    "orders:public_change_request": row(200, 200, 200, 200, 200, 200, kwargs=lambda o: {"token": o.change_request_token}),  # noqa: E501
    "orders:track": row(200, 200, 200, 200, 200, 200, kwargs=lambda o: {"token": o.tracking_token}),
    "orders:track_invoice_pdf": row(404, 404, 404, 404, 404, 404, kwargs=lambda o: {"token": o.tracking_token, "invoice_id": 0}),  # noqa: E501
    "orders:public_invoice": row(404, 404, 404, 404, 404, 404, kwargs=lambda o: {"token": o.tracking_token}),  # noqa: E501
    "orders:public_invoice_pdf": row(404, 404, 404, 404, 404, 404, kwargs=lambda o: {"token": o.tracking_token}),  # noqa: E501
    # quotes
    "quotes:awaiting": row(302, 200, 403, 403, 200, 200),
    "quotes:products": row(302, 200, 403, 403, 200, 200),
    "quotes:builder": row(302, 200, 403, 403, 200, 200, kwargs=lambda o: {"number": o.order.number}),  # noqa: E501
    "quotes:detail": row(302, 200, 200, 200, 200, 200, kwargs=lambda o: {"pk": o.quote.pk}),
    "quotes:pdf": row(302, 200, 200, 200, 200, 200, kwargs=lambda o: {"pk": o.quote.pk}),
    "quotes:revise": row(302, 302, 302, 302, 302, 302, kwargs=lambda o: {"pk": o.quote.pk}, method="post"),  # noqa: E501
    "quotes:accept_by_phone": row(302, 302, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.quote.pk}, method="post", data={"name": "Pat Buyer"}),  # noqa: E501
    "quotes:decline": row(302, 302, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.quote.pk}, method="post"),  # noqa: E501
    "quotes:pause_followups": row(302, 302, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.quote.pk}, method="post"),  # noqa: E501
    "quotes:resume_followups": row(302, 302, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.quote.pk}, method="post"),  # noqa: E501
    "quotes:resend": row(302, 302, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.quote.pk}, method="post"),  # noqa: E501
    # the customer's quote page: the signed link is the key, a login changes nothing
    "quotes:public": row(200, 200, 200, 200, 200, 200, kwargs=lambda o: {"token": o.quote_token}),
    "quotes:public_pdf": row(200, 200, 200, 200, 200, 200, kwargs=lambda o: {"token": o.quote_token}),  # noqa: E501
    "quotes:public_accept": row(303, 303, 303, 303, 303, 303, kwargs=lambda o: {"token": o.quote_token}, method="post", data={"name": "Pat Buyer"}),  # noqa: E501
    "quotes:public_decline": row(303, 303, 303, 303, 303, 303, kwargs=lambda o: {"token": o.quote_token}, method="post"),  # noqa: E501
    # accounting (Xero)
    "accounting:settings": row(302, 403, 403, 200, 200, 200),
    "accounting:connect": row(302, 403, 403, 302, 302, 302, method="post"),
    "accounting:callback": row(302, 403, 403, 302, 302, 302),
    "accounting:disconnect": row(302, 403, 403, 302, 302, 302, method="post"),
    "accounting:mappings": row(302, 403, 403, 302, 302, 302, method="post", data={"sales_account_code": "200", "invoice_status": "AUTHORISED", "tax_types": "20 = OUTPUT2", "default_payment_account": "090"}),  # noqa: E501
    "accounting:sync_list": row(302, 403, 403, 200, 200, 200),
    "accounting:sync_retry": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.sync_record.pk}, method="post"),  # noqa: E501
    "accounting:sync_log": row(302, 403, 403, 200, 200, 200),
    "accounting:webhook": row(401, 401, 401, 401, 401, 401, method="post"),
    # invoicing (finance)
    "invoicing:drafts": row(302, 403, 403, 200, 200, 200),
    "invoicing:overdue": row(302, 403, 403, 200, 200, 200),
    "invoicing:receivables": row(302, 403, 403, 200, 200, 200),
    "invoicing:detail": row(302, 403, 403, 200, 200, 200, kwargs=lambda o: {"pk": o.draft_invoice.pk}),  # noqa: E501
    "invoicing:pdf": row(302, 403, 403, 200, 200, 200, kwargs=lambda o: {"pk": o.issued_invoice.pk}),  # noqa: E501
    "invoicing:edit_lines": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.draft_invoice.pk}, method="post", data={"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-description": "Fitting", "form-0-quantity": "1", "form-0-unit_price": "10.00", "form-0-tax_rate": "20"}),  # noqa: E501
    "invoicing:approve": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.draft_invoice.pk}, method="post"),  # noqa: E501
    "invoicing:send": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.issued_invoice.pk}, method="post"),  # noqa: E501
    "invoicing:record_payment": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.issued_invoice.pk}, method="post", data={"amount": "1.00", "currency": "GBP", "method": "bank_transfer"}),  # noqa: E501
    "invoicing:credit": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.issued_invoice.pk}, method="post", data={"reason": "Goodwill", "amount": "1.00"}),  # noqa: E501
    "invoicing:void": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.issued_invoice.pk}, method="post", data={"reason": "Duplicate"}),  # noqa: E501
    "invoicing:public_query": row(200, 200, 200, 200, 200, 200, kwargs=lambda o: {"token": o.invoice_token}, method="post", data={"reason": "Wrong quantity"}),  # noqa: E501
    "invoicing:resolve_dispute": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.issued_invoice.pk}, method="post", data={"reason": "Credited"}),  # noqa: E501
    "invoicing:line_add": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.draft_invoice.pk}, method="post", data={"new-description": "Survey", "new-quantity": "1", "new-unit_price": "5.00", "new-tax_rate": "20"}),  # noqa: E501
    "invoicing:line_edit": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.draft_invoice.pk, "line_id": o.draft_invoice.lines.first().pk}),  # noqa: E501
    "invoicing:line_row": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.draft_invoice.pk, "line_id": o.draft_invoice.lines.first().pk}),  # noqa: E501
    "invoicing:line_remove": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.draft_invoice.pk, "line_id": o.draft_invoice.lines.first().pk}, method="post"),  # noqa: E501
    "invoicing:apply_credit": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.issued_invoice.pk}, method="post"),  # noqa: E501
    "invoicing:customer_billing": row(302, 403, 403, 200, 200, 200, kwargs=lambda o: {"pk": o.customer.pk}),  # noqa: E501
    "invoicing:customer_receive_payment": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.customer.pk}, method="post", data={"amount": "5.00", "currency": "GBP", "method": "bank_transfer"}),  # noqa: E501
    "invoicing:time_entry": row(302, 403, 302, 302, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post", data={"person": "Sam", "date": "2026-01-05", "hours": "1", "rate": "40", "tax_rate": "20", "description": "Survey"}),  # noqa: E501
    "invoicing:deposit": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post", data={"percent": "10"}),  # noqa: E501
    "invoicing:milestone": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"number": o.order.number}, method="post", data={"description": "Stage 1", "amount": "10"}),  # noqa: E501
    # banking (finance)
    "banking:statements": row(302, 403, 403, 200, 200, 200),
    "banking:upload": row(302, 403, 403, 400, 400, 400, method="post"),
    "banking:statement": row(302, 403, 403, 200, 200, 200, kwargs=lambda o: {"pk": o.bank_line.statement_id}),  # noqa: E501
    "banking:line_confirm": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.bank_line.pk}, method="post"),  # noqa: E501
    "banking:line_change": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.bank_line.pk}, method="post", data={"invoice_numbers": ""}),  # noqa: E501
    "banking:line_reject": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.bank_line.pk}, method="post"),  # noqa: E501
    "banking:line_ignore": row(302, 403, 403, 302, 302, 302, kwargs=lambda o: {"pk": o.bank_line.pk}, method="post", data={"reason": "Refund"}),  # noqa: E501
    # JSON API: no credentials is 401; a signed-in session works like a token of that person
    "api:schema": row(200, 200, 200, 200, 200, 200),
    "api:docs": row(200, 200, 200, 200, 200, 200),
    "api:tokens": row(302, 200, 200, 200, 200, 200),
    "api:token_revoke": row(302, 404, 404, 404, 404, 404, kwargs=lambda o: {"pk": 0}, method="post"),  # noqa: E501
    "api:customer-list": row(401, 200, 200, 200, 200, 200),
    "api:customer-detail": row(401, 200, 200, 200, 200, 200, kwargs=lambda o: {"pk": o.customer.pk}),  # noqa: E501
    "api:product-list": row(401, 200, 200, 200, 200, 200),
    "api:product-detail": row(401, 200, 200, 200, 200, 200, kwargs=lambda o: {"pk": o.product.pk}),
    "api:order-list": row(401, 200, 200, 200, 200, 200),
    "api:order-detail": row(401, 200, 200, 200, 200, 200, kwargs=lambda o: {"number": o.order.number}),  # noqa: E501
    "api:order-transition": row(401, 200, 403, 403, 200, 200, kwargs=lambda o: {"number": o.order.number, "name": "confirm"}, method="post", data={"status": "enquiry"}),  # noqa: E501
    "api:order-lines": row(401, 405, 405, 405, 405, 405, kwargs=lambda o: {"number": o.order.number}),  # noqa: E501
    "api:order-timeline": row(401, 200, 200, 200, 200, 200, kwargs=lambda o: {"number": o.order.number}),  # noqa: E501
    "api:quote-list": row(401, 200, 200, 200, 200, 200),
    "api:quote-detail": row(401, 200, 200, 200, 200, 200, kwargs=lambda o: {"pk": o.quote.pk}),
    "api:quote-send": row(401, 400, 403, 403, 400, 400, kwargs=lambda o: {"pk": o.quote.pk}, method="post"),  # noqa: E501
    "api:quote-accept": row(401, 200, 403, 403, 200, 200, kwargs=lambda o: {"pk": o.quote.pk}, method="post", data={"name": "Pat Buyer"}),  # noqa: E501
    "api:quote-decline": row(401, 200, 403, 403, 200, 200, kwargs=lambda o: {"pk": o.quote.pk}, method="post"),  # noqa: E501
    "api:invoice-list": row(401, 403, 403, 200, 200, 200),
    "api:invoice-detail": row(401, 403, 403, 200, 200, 200, kwargs=lambda o: {"pk": o.draft_invoice.pk}),  # noqa: E501
    "api:invoice-approve": row(401, 403, 403, 200, 200, 200, kwargs=lambda o: {"pk": o.draft_invoice.pk}, method="post"),  # noqa: E501
    "api:invoice-send": row(401, 403, 403, 200, 200, 200, kwargs=lambda o: {"pk": o.issued_invoice.pk}, method="post"),  # noqa: E501
    "api:payment-list": row(401, 403, 403, 200, 200, 200),
    "api:payment-detail": row(401, 403, 403, 404, 404, 404, kwargs=lambda o: {"pk": 0}),
    # webhooks (managers); the endpoint is active, so resuming it is refused with 409
    "webhooks:list": row(302, 403, 403, 403, 200, 200),
    "webhooks:create": row(302, 403, 403, 403, 200, 200),
    "webhooks:detail": row(302, 403, 403, 403, 200, 200, kwargs=lambda o: {"pk": o.webhook_endpoint.pk}),  # noqa: E501
    "webhooks:edit": row(302, 403, 403, 403, 200, 200, kwargs=lambda o: {"pk": o.webhook_endpoint.pk}),  # noqa: E501
    "webhooks:pause": row(302, 403, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.webhook_endpoint.pk}, method="post"),  # noqa: E501
    "webhooks:resume": row(302, 403, 403, 403, 409, 409, kwargs=lambda o: {"pk": o.webhook_endpoint.pk}, method="post"),  # noqa: E501
    "webhooks:archive": row(302, 403, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.webhook_endpoint.pk}, method="post"),  # noqa: E501
    "webhooks:ping": row(302, 403, 403, 403, 302, 302, kwargs=lambda o: {"pk": o.webhook_endpoint.pk}, method="post"),  # noqa: E501
    "webhooks:rotate": row(302, 403, 403, 403, 200, 200, kwargs=lambda o: {"pk": o.webhook_endpoint.pk}, method="post"),  # noqa: E501
    "webhooks:delivery": row(302, 403, 403, 403, 200, 200, kwargs=lambda o: o.webhook_delivery),
    "webhooks:redeliver": row(302, 403, 403, 403, 409, 409, kwargs=lambda o: o.webhook_delivery, method="post"),  # noqa: E501
}
# fmt: on


class LinkAccess(NamedTuple):
    purpose: str
    status: int
    target: Callable[["UrlObjects"], Any]
    kwargs: Callable[["UrlObjects", str], dict[str, Any]] = lambda o, token: {"token": token}
    method: str = "get"
    data: dict[str, Any] | None = None


link = LinkAccess

# The customer-link column: ONE row per public URL (one taking a `token`), or
# tests/test_access_matrix.py fails. `status` is what the customer whose link it is gets
# for `target`; another customer's link, a link signed for another purpose, a tampered or a
# revoked link get 404, and an expired link the polite "link expired" page, with no
# document data. `kwargs` builds the URL from the objects and the token.
# fmt: off
CUSTOMER_LINKS: dict[str, LinkAccess] = {
    "orders:track": link("tracking", 200, lambda o: o.order),
    "orders:track_invoice_pdf": link("tracking", 200, lambda o: o.issued_invoice.order, kwargs=lambda o, token: {"token": token, "invoice_id": o.issued_invoice.pk}),  # noqa: E501
    "orders:public_invoice": link("invoice", 200, lambda o: o.issued_invoice),
    "orders:public_invoice_pdf": link("invoice", 200, lambda o: o.issued_invoice),
    "orders:public_change_request": link("change_request", 200, lambda o: o.change_request),
    "quotes:public": link("quote", 200, lambda o: o.quote),
    "quotes:public_pdf": link("quote", 200, lambda o: o.quote),
    "quotes:public_accept": link("quote", 303, lambda o: o.quote, method="post", data={"name": "Pat Buyer"}),  # noqa: E501
    "quotes:public_decline": link("quote", 303, lambda o: o.quote, method="post"),
    "invoicing:public_query": link("invoice", 200, lambda o: o.issued_invoice, method="post", data={"reason": "Wrong quantity"}),  # noqa: E501
}
# fmt: on


class UrlObjects:
    """Objects that URL arguments point at, created on first use in the test's database.

    They belong to the cast's salesperson, so "sales" sees them as their own work.
    Add a property here when a new kind of object appears in URLs.
    """

    def __init__(self, cast: dict):
        self.cast = cast

    @cached_property
    def customer(self):
        from tests.factories import ContactFactory, CustomerFactory

        customer = CustomerFactory(account_manager=self.cast["sales"])
        ContactFactory(customer=customer)
        return customer

    @cached_property
    def contact(self):
        return self.customer.contacts.first()

    @cached_property
    def product(self):
        from tests.factories import ProductFactory

        return ProductFactory()

    @cached_property
    def order(self):
        """An enquiry with one line, owned by the salesperson."""
        from decimal import Decimal

        from orders.services import create_enquiry, set_order_lines

        sales = self.cast["sales"]
        order = create_enquiry(customer=self.customer, title="Access check", by=sales)
        line = {
            "product": self.product,
            "description": "Widget",
            "quantity": Decimal("2"),
            "unit_price": Decimal("100.00"),
        }
        return set_order_lines(order, [line], by=sales)

    @cached_property
    def quote(self):
        """A sent quote for `order`."""
        from quotes.services import create_quote, send_quote

        sales = self.cast["sales"]
        return send_quote(create_quote(self.order, by=sales), by=sales)

    @cached_property
    def quote_token(self) -> str:
        """A signed customer link to `quote`, for accepting or declining it."""
        from oms.links.services import issue_link

        return issue_link(self.quote, purpose="quote").token

    @cached_property
    def tracking_token(self) -> str:
        """A signed customer tracking link for `order`."""
        from oms.links.services import issue_link

        return issue_link(self.order, purpose="tracking").token

    @cached_property
    def change_request_token(self) -> str:
        """A signed customer link to `change_request`."""
        from oms.links.services import issue_link

        return issue_link(self.change_request, purpose="change_request").token

    @cached_property
    def change_request(self):
        """A change request on a confirmed copy of `order`."""
        from datetime import date

        from orders.services import confirm_order, create_change_request
        from tests.factories import place_order

        sales = self.cast["sales"]
        order = confirm_order(place_order(sales, customer=self.customer), by=sales)
        return create_change_request(
            order, by=sales, reason="Later start", agreed_date=date(2030, 1, 31)
        )

    @cached_property
    def rule(self):
        """A shipped automation rule."""
        from oms.automation.models import Rule

        return Rule.objects.order_by("pk").first()

    @cached_property
    def sync_record(self):
        """An invoice whose push to Xero failed."""
        from invoicing.accounting.models import SyncRecord

        return SyncRecord.objects.create(
            kind=SyncRecord.Kind.INVOICE, local_id=1, status="failed", last_error="Refused"
        )

    @cached_property
    def draft_invoice(self):
        """The draft final invoice of a delivered copy of `order`."""
        from invoicing.services import draft_invoice_for_order
        from tests.factories import advance_order, place_order

        manager = self.cast["manager"]
        order = advance_order(place_order(manager, customer=self.customer), "delivered", by=manager)
        return draft_invoice_for_order(order, by=manager)

    @cached_property
    def invoice_token(self) -> str:
        """A signed customer link to `issued_invoice`."""
        from oms.links.services import issue_link

        return issue_link(self.issued_invoice, purpose="invoice").token

    @cached_property
    def issued_invoice(self):
        """An approved final invoice of a delivered copy of `order`."""
        from invoicing.services import approve_invoice, draft_invoice_for_order
        from tests.factories import advance_order, place_order

        manager = self.cast["manager"]
        order = advance_order(place_order(manager, customer=self.customer), "delivered", by=manager)
        return approve_invoice(draft_invoice_for_order(order, by=manager), by=manager)

    @cached_property
    def webhook_endpoint(self):
        """An active webhook endpoint registered by the manager."""
        from oms.webhooks.services import create_endpoint

        return create_endpoint(
            url="https://hooks.example.com/oms",
            description="Access check",
            event_types=["order.confirmed"],
            by=self.cast["manager"],
        )

    @cached_property
    def webhook_delivery(self) -> dict:
        """URL arguments of a test ping queued (not yet sent) to `webhook_endpoint`."""
        from oms.webhooks.services import send_ping

        delivery = send_ping(self.webhook_endpoint, by=self.cast["manager"])
        return {"pk": delivery.endpoint_id, "delivery": delivery.uuid}

    @cached_property
    def bank_line(self):
        """An unmatched line of an imported bank statement."""
        from uuid import uuid4

        from invoicing.banking.services import import_statement

        statement = import_statement(
            by=self.cast["manager"],
            filename="bank.csv",
            content=f"Date,Amount,Reference\n2026-01-05,1.23,Mystery {uuid4().hex}\n".encode(),
            currency="GBP",
        )
        return statement.lines.get()

    @cached_property
    def reset(self) -> dict[str, str]:
        """Password-reset link arguments for the salesperson."""
        from django.contrib.auth.tokens import default_token_generator
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        user = self.cast["sales"]
        return {
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        }
