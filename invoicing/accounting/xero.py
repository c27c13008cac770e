"""Xero through the real xero-python client: OAuth 2.0 tokens, the shared rate limiter, and
the translation of Xero's answers into the provider errors services understand.

Tokens are read from the connection row for every call and refreshed single-flight: the
refresh token is single-use, so only the worker holding the connection row lock may spend it.
Nothing here logs or raises a token; error messages are built from status codes and Xero's
validation messages only.
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import urllib3
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from xero_python.accounting import AccountingApi
from xero_python.accounting.models import (
    Account,
    Address,
    Allocation,
    Allocations,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    CurrencyCode,
    LineAmountTypes,
    LineItem,
    Payment,
    Phone,
)
from xero_python.accounting.models import Invoice as XeroInvoice
from xero_python.accounting.models import Invoices as XeroInvoices
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException, HTTPStatusException
from xero_python.identity import IdentityApi

from customers.models import Customer
from invoicing.accounting.models import AccountMapping, SyncLog, XeroConnection
from invoicing.accounting.provider import (
    DailyLimitReached,
    NotConnected,
    PushResult,
    RateLimited,
    RemotePayment,
    RemotePayments,
    SyncError,
    TransientError,
    ValidationFailed,
)
from invoicing.accounting.ratelimit import XeroRateLimiter
from invoicing.models import Invoice
from invoicing.models import Payment as OmsPayment

logger = logging.getLogger(__name__)

# Refresh this long before expiry, so a token never expires in the middle of a call.
REFRESH_MARGIN = timedelta(minutes=2)
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60


def token_url() -> str:
    return f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/token"


def revoke_url() -> str:
    return f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/revocation"


def authorize_url(state: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.XERO_CLIENT_ID,
            "redirect_uri": settings.XERO_REDIRECT_URI,
            "scope": " ".join(settings.XERO_SCOPES),
            "state": state,
        }
    )
    return f"{settings.XERO_LOGIN_URL.rstrip('/')}/identity/connect/authorize?{query}"


# --- the client ---------------------------------------------------------------------------


class LimitedApiClient(ApiClient):
    """xero-python's ApiClient with timeouts, no hidden urllib3 retries, and every call to an
    organisation taken through the shared rate limiter."""

    def __init__(self, configuration: Configuration, **kwargs: Any):
        super().__init__(configuration, **kwargs)
        # Retries are ours to decide (with the Idempotency-Key), never urllib3's silently.
        self.rest_client.pool_manager.connection_pool_kw["retries"] = False

    def request(
        self,
        method,
        url,
        query_params=None,
        headers=None,
        post_params=None,
        body=None,
        _preload_content=True,
        _request_timeout=None,
    ):
        timeout = _request_timeout or (CONNECT_TIMEOUT, READ_TIMEOUT)
        tenant_id = (headers or {}).get("xero-tenant-id")

        def send():
            return super(LimitedApiClient, self).request(
                method,
                url,
                query_params=query_params,
                headers=headers,
                post_params=post_params,
                body=body,
                _preload_content=_preload_content,
                _request_timeout=timeout,
            )

        if not tenant_id:  # identity calls (token, connections) are not organisation calls
            return send()
        limiter = XeroRateLimiter(tenant_id)
        with limiter.slot():
            response = send()
        remaining = response.getheader("X-DayLimit-Remaining") if _preload_content else None
        if remaining and remaining.isdigit():
            limiter.note_day_remaining(int(remaining))
        return response


def _configuration(oauth2_token: OAuth2Token) -> Configuration:
    # Configuration() hands back a copy of the first instance ever made, ignoring its
    # arguments, so the token object is set on the copy explicitly.
    configuration = Configuration()
    configuration.oauth2_token = oauth2_token
    return configuration


def _static_client(token: dict | None = None) -> LimitedApiClient:
    oauth2 = OAuth2Token(
        client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
    )
    holder = {"token": token or {}}
    return LimitedApiClient(
        _configuration(oauth2),
        oauth2_token_getter=lambda: holder["token"],
        oauth2_token_saver=lambda new: holder.update(token=new),
    )


class XeroTokenApi(TokenApi):
    """xero-python's TokenApi pointed at settings.XERO_IDENTITY_URL, plus the code exchange."""

    def __init__(self, api_client: ApiClient):
        super().__init__(api_client, settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET)
        self.client_credentials_token_url = token_url()
        self.refresh_token_url = token_url()
        self.revoke_token_url = revoke_url()

    def exchange_code(self, code: str) -> dict:
        response, _status, _headers = self.api_client.call_api(
            self.refresh_token_url,
            "POST",
            header_params={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            post_params={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": settings.XERO_REDIRECT_URI,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            auth_settings=None,
            _preload_content=False,
        )
        return self.parse_token_response(response)


def _token_dict(connection: XeroConnection) -> dict:
    expires_at = connection.expires_at.timestamp() if connection.expires_at else None
    return {
        "access_token": connection.access_token,
        "scope": connection.scope.split(),
        "expires_in": int(expires_at - datetime.now(UTC).timestamp()) if expires_at else None,
        "expires_at": expires_at,
        "token_type": "Bearer",
    }


def _store_tokens(connection: XeroConnection, token: dict) -> None:
    connection.access_token = token["access_token"]
    if token.get("refresh_token"):
        connection.refresh_token = token["refresh_token"]
    scope = token.get("scope") or connection.scope
    connection.scope = scope if isinstance(scope, str) else " ".join(scope)
    connection.expires_at = timezone.now() + timedelta(seconds=int(token.get("expires_in") or 1800))


def _oauth_error(error: Exception) -> tuple[bool, str]:
    """(grant is dead, message) for a failed token call; never echoes the request."""
    if isinstance(error, HTTPStatusException):
        try:
            code = json.loads(error.http_resp.data or b"{}").get("error", "")
        except (ValueError, AttributeError):
            code = ""
        if error.status in (400, 401) and code in ("invalid_grant", "invalid_client", ""):
            return True, f"Xero refused the stored authorisation ({code or error.status})."
        return False, f"Xero's identity service answered {error.status}."
    return False, f"Xero's identity service could not be reached ({type(error).__name__})."


def valid_access_token(connection_id: int) -> dict:
    """A token dict good for at least REFRESH_MARGIN, refreshing it if needed."""
    connection = XeroConnection.objects.get(pk=connection_id)
    if not connection.is_active:
        raise NotConnected("Xero is not connected. Reconnect Xero in Xero settings.")
    if connection.expires_at and connection.expires_at > timezone.now() + REFRESH_MARGIN:
        return _token_dict(connection)
    return refresh_access_token(connection_id)


def refresh_access_token(connection_id: int, *, stale_access_token: str = "") -> dict:
    """Spend the single-use refresh token exactly once, however many workers ask at once.

    Lock the connection row, re-read, refresh, save, in one transaction: a worker that waited
    for the lock finds the fresh token and returns it without calling Xero. This is the one
    place a row lock is held across an HTTP call, on purpose: the row *is* the token.
    """
    failure: SyncError | None = None
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().get(pk=connection_id)
        if not connection.is_active:
            raise NotConnected("Xero is not connected. Reconnect Xero in Xero settings.")
        still_fresh = (
            connection.expires_at and connection.expires_at > timezone.now() + REFRESH_MARGIN
        )
        if stale_access_token and connection.access_token != stale_access_token:
            return _token_dict(connection)  # another worker refreshed after our call failed
        if still_fresh and not stale_access_token:
            return _token_dict(connection)  # another worker refreshed while we waited
        try:
            token = XeroTokenApi(_static_client()).refresh_token(
                connection.refresh_token, connection.scope.split()
            )
        except (HTTPStatusException, ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            dead, message = _oauth_error(error)
            if dead:
                connection.status = XeroConnection.Status.RECONNECT
                connection.last_error = message
                connection.save(update_fields=["status", "last_error"])
                SyncLog.objects.create(action="refresh token", outcome="failed", message=message)
                failure = NotConnected(message + " Reconnect Xero.")
            else:
                failure = TransientError(message)
        else:
            _store_tokens(connection, token)
            connection.last_refreshed_at = timezone.now()
            connection.refresh_count += 1
            connection.save()
            logger.info("Refreshed the Xero access token for %s.", connection.org_name)
            return _token_dict(connection)
    raise failure


class ConnectionToken(OAuth2Token):
    """xero-python's token object, fed from the connection row; its refresh is ours."""

    def __init__(self, connection_id: int):
        super().__init__(
            client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
        )
        self.connection_id = connection_id

    def refresh_access_token(self, api_client) -> bool:
        token = refresh_access_token(self.connection_id)
        self.update_token(**token)
        return True


def connection_client(connection: XeroConnection) -> LimitedApiClient:
    cache: dict = {}

    def current_token() -> dict:
        # Re-read the row only when the token we hold nears expiry (or was refused).
        expires_at = cache.get("expires_at")
        margin = REFRESH_MARGIN.total_seconds()
        if not expires_at or expires_at <= datetime.now(UTC).timestamp() + margin:
            cache.clear()
            cache.update(valid_access_token(connection.pk))
        return dict(cache)

    client = LimitedApiClient(
        _configuration(ConnectionToken(connection.pk)),
        oauth2_token_getter=current_token,
        oauth2_token_saver=lambda token: None,  # refresh_access_token saved it already
    )
    client.forget_token = cache.clear
    return client


# --- connecting and disconnecting -----------------------------------------------------------


def exchange_code(code: str) -> tuple[dict, list]:
    """Trade an authorisation code for tokens and list the organisations they reach."""
    try:
        token = XeroTokenApi(_static_client()).exchange_code(code)
        token.setdefault("expires_at", datetime.now(UTC).timestamp() + token["expires_in"])
        if isinstance(token.get("scope"), str):
            token["scope"] = token["scope"].split()
        client = _static_client(
            {
                "access_token": token["access_token"],
                "scope": token.get("scope") or [],
                "expires_in": token["expires_in"],
                "expires_at": None,  # just issued: good for this one call
                "token_type": "Bearer",
            }
        )
        connections = IdentityApi(client, base_url=settings.XERO_API_URL.rstrip("/"))
        tenants = connections.get_connections()
    except (HTTPStatusException, ApiException, urllib3.exceptions.HTTPError, OSError) as error:
        raise NotConnected(_oauth_error(error)[1]) from None
    return token, list(tenants or [])


def revoke(connection: XeroConnection) -> None:
    """Revoke the refresh token (and with it every access token) at Xero."""
    refresh_token = connection.refresh_token
    if not refresh_token:
        return
    try:
        XeroTokenApi(_static_client()).revoke_token(refresh_token)
    except (HTTPStatusException, ApiException, urllib3.exceptions.HTTPError, OSError) as error:
        raise TransientError(_oauth_error(error)[1]) from None


# --- errors -----------------------------------------------------------------------------------


def _header(error: HTTPStatusException, name: str) -> str:
    headers = error.headers or {}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def _validation_message(error: HTTPStatusException) -> str:
    try:
        data = json.loads(error.http_resp.data or b"{}")
    except (ValueError, AttributeError):
        return "Xero refused the data."
    messages = []
    for element in data.get("Elements") or []:
        for problem in element.get("ValidationErrors") or []:
            if problem.get("Message"):
                messages.append(problem["Message"])
    if not messages and data.get("Message"):
        messages.append(data["Message"])
    return "; ".join(messages) or "Xero refused the data."


def translate(error: Exception, tenant_id: str) -> SyncError:
    if isinstance(error, SyncError):
        return error
    if isinstance(error, HTTPStatusException):
        status = error.status
        if status == 429:
            retry_after = float(_header(error, "Retry-After") or 60)
            problem = _header(error, "X-Rate-Limit-Problem").lower()
            if problem == "day":
                return DailyLimitReached(
                    "Xero's daily call limit for this organisation is reached.",
                    retry_after=retry_after,
                )
            XeroRateLimiter(tenant_id).pause(retry_after)
            return RateLimited(
                f"Xero asked us to slow down ({problem or 'rate'} limit); retrying in "
                f"{retry_after:g} s.",
                retry_after=retry_after,
            )
        if status == 400:
            return ValidationFailed(_validation_message(error), status_code=400)
        if status in (401, 403):
            return NotConnected(
                "Xero refused access to the organisation. Reconnect Xero.", status_code=status
            )
        if status == 404:
            return ValidationFailed("The record no longer exists in Xero.", status_code=404)
        return TransientError(f"Xero answered {status}; retrying.", status_code=status)
    if isinstance(error, (ApiException, urllib3.exceptions.HTTPError, OSError)):
        return TransientError(f"Xero could not be reached ({type(error).__name__}); retrying.")
    raise error


# --- the provider ---------------------------------------------------------------------------


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class XeroProvider:
    """The AccountingProvider for Xero."""

    name = "xero"

    def __init__(self, connection: XeroConnection, mapping: AccountMapping | None = None):
        self.connection = connection
        self.tenant_id = connection.tenant_id
        self.mapping = mapping or AccountMapping.current()
        self.client = connection_client(connection)
        base = f"{settings.XERO_API_URL.rstrip('/')}/api.xro/2.0"
        self.api = AccountingApi(self.client, base_url=base)

    def _call(self, method: Callable, *args: Any, **kwargs: Any):
        for attempt in (1, 2):
            used = self.client.configuration.oauth2_token.access_token
            try:
                return method(self.tenant_id, *args, **kwargs)
            except HTTPStatusException as error:
                if error.status == 401 and attempt == 1:
                    # The token was refused before its expiry: refresh once and try again.
                    refresh_access_token(self.connection.pk, stale_access_token=used or "")
                    self.client.forget_token()
                    continue
                raise translate(error, self.tenant_id) from None
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
                raise translate(error, self.tenant_id) from None
        raise NotConnected("Xero refused access to the organisation. Reconnect Xero.")

    # --- payloads ---------------------------------------------------------------------

    def contact_payload(self, customer: Customer) -> Contact:
        billing = customer.contact("billing")
        return Contact(
            name=customer.name,
            email_address=(billing.email if billing else "") or None,
            tax_number=customer.tax_number or None,
            account_number=f"OMS-C{customer.pk}",
            addresses=[Address(address_type="POBOX", address_line1=customer.billing_address)]
            if customer.billing_address
            else None,
            phones=[Phone(phone_type="DEFAULT", phone_number=billing.phone)]
            if billing and billing.phone
            else None,
        )

    def _line_items(self, invoice: Invoice) -> list[LineItem]:
        items = []
        for line in invoice.lines.all():
            tax_type = self.mapping.tax_type_for(line.tax_rate)
            if not tax_type:
                raise ValidationFailed(
                    f"No Xero tax type is mapped for {line.tax_rate}% VAT. Add it in Xero settings."
                )
            items.append(
                LineItem(
                    description=line.description,
                    quantity=line.quantity,
                    unit_amount=line.unit_price,
                    discount_rate=line.discount_percent if line.discount_percent else None,
                    account_code=self.mapping.sales_account_code,
                    tax_type=tax_type,
                )
            )
        if not items:
            raise ValidationFailed(f"{invoice} has no lines to send to Xero.")
        return items

    def _reference(self, invoice: Invoice) -> str:
        order = invoice.order
        reference = order.number
        if order.po_reference:
            reference += f" / PO {order.po_reference}"
        return reference[:255]

    def invoice_payload(self, invoice: Invoice, contact_id: str) -> XeroInvoice:
        return XeroInvoice(
            type="ACCREC",
            contact=Contact(contact_id=contact_id),
            line_items=self._line_items(invoice),
            date=invoice.issue_date,
            due_date=invoice.due_date,
            invoice_number=invoice.number,
            reference=self._reference(invoice),
            status=self.mapping.invoice_status,
            currency_code=CurrencyCode(invoice.currency),
            line_amount_types=LineAmountTypes.EXCLUSIVE,
        )

    def credit_note_payload(self, credit_note: Invoice, contact_id: str) -> CreditNote:
        original = credit_note.credited_invoice
        return CreditNote(
            type="ACCRECCREDIT",
            contact=Contact(contact_id=contact_id),
            line_items=self._line_items(credit_note),
            date=credit_note.issue_date,
            credit_note_number=credit_note.number,
            reference=f"Credit for {original.number}" if original else "",
            status="AUTHORISED",
            currency_code=CurrencyCode(credit_note.currency),
            line_amount_types=LineAmountTypes.EXCLUSIVE,
        )

    # --- the interface ----------------------------------------------------------------

    def push_contact(
        self, customer: Customer, *, external_id: str, idempotency_key: str
    ) -> PushResult:
        contact = self.contact_payload(customer)
        if external_id:
            contact.contact_id = external_id
            self._call(
                self.api.update_contact,
                external_id,
                Contacts(contacts=[contact]),
                idempotency_key=idempotency_key,
            )
            return PushResult(external_id=external_id)
        found = self._find_contact(customer, contact.email_address or "")
        if found:
            return PushResult(external_id=found)
        created = self._call(
            self.api.create_contacts, Contacts(contacts=[contact]), idempotency_key=idempotency_key
        )
        return PushResult(external_id=created.contacts[0].contact_id)

    def _find_contact(self, customer: Customer, email: str) -> str:
        """Match by name and email; Xero keeps contact names unique, so a same-named contact
        with a different email is a conflict a person must resolve, not a guess."""
        result = self._call(self.api.get_contacts, where=f'Name=="{_quote(customer.name)}"')
        candidates = [c for c in (result.contacts or []) if c.name == customer.name]
        if not candidates:
            return ""
        for candidate in candidates:
            if (candidate.email_address or "").lower() == email.lower():
                return candidate.contact_id
        if len(candidates) == 1 and not (candidates[0].email_address and email):
            return candidates[0].contact_id
        raise ValidationFailed(
            f"Xero already has a contact named {customer.name!r} with a different email "
            f"address; correct the email in Xero or in the OMS, then retry."
        )

    def push_invoice(
        self,
        invoice: Invoice,
        *,
        contact_id: str,
        external_id: str,
        idempotency_key: str,
        maybe_exists: bool = True,
    ) -> PushResult:
        payload = self.invoice_payload(invoice, contact_id)
        if external_id:
            payload.invoice_id = external_id
            result = self._call(
                self.api.update_invoice,
                external_id,
                XeroInvoices(invoices=[payload]),
                idempotency_key=idempotency_key,
            )
            return self._invoice_result(result.invoices[0])
        if maybe_exists:
            existing = self._call(self.api.get_invoices, invoice_numbers=[invoice.number])
            for candidate in existing.invoices or []:
                if candidate.invoice_number == invoice.number and candidate.status != "DELETED":
                    return self._invoice_result(candidate)
        result = self._call(
            self.api.create_invoices,
            XeroInvoices(invoices=[payload]),
            idempotency_key=idempotency_key,
        )
        return self._invoice_result(result.invoices[0])

    def _invoice_result(self, remote) -> PushResult:
        return PushResult(
            external_id=remote.invoice_id,
            external_status=str(remote.status or ""),
            subtotal=_money(remote.sub_total),
            total_tax=_money(remote.total_tax),
            total=_money(remote.total),
        )

    def push_credit_note(
        self,
        credit_note: Invoice,
        *,
        contact_id: str,
        external_id: str,
        idempotency_key: str,
        invoice_external_id: str,
        maybe_exists: bool = True,
    ) -> PushResult:
        payload = self.credit_note_payload(credit_note, contact_id)
        if external_id:
            payload.credit_note_id = external_id
            result = self._call(
                self.api.update_credit_note,
                external_id,
                CreditNotes(credit_notes=[payload]),
                idempotency_key=idempotency_key,
            )
            return self._credit_result(result.credit_notes[0])
        if maybe_exists:
            existing = self._call(
                self.api.get_credit_notes,
                where=f'CreditNoteNumber=="{_quote(credit_note.number)}"',
            )
            for candidate in existing.credit_notes or []:
                if candidate.credit_note_number == credit_note.number:
                    return self._credit_result(candidate)
        result = self._call(
            self.api.create_credit_notes,
            CreditNotes(credit_notes=[payload]),
            idempotency_key=idempotency_key,
        )
        created = self._credit_result(result.credit_notes[0])
        if invoice_external_id and credit_note.gross_total > 0:
            self._allocate(created.external_id, invoice_external_id, credit_note, idempotency_key)
        return created

    def _allocate(
        self, credit_note_id: str, invoice_id: str, credit_note: Invoice, key: str
    ) -> None:
        allocation = Allocation(
            invoice=XeroInvoice(invoice_id=invoice_id),
            amount=credit_note.gross_total,
            date=credit_note.issue_date,
        )
        try:
            self._call(
                self.api.create_credit_note_allocation,
                credit_note_id,
                Allocations(allocations=[allocation]),
                idempotency_key=f"{key}-allocation",
            )
        except ValidationFailed as error:
            # The credit note is in Xero either way; finance can allocate it there.
            SyncLog.objects.create(
                action="allocate credit note", outcome="failed", message=error.message
            )

    def _credit_result(self, remote) -> PushResult:
        return PushResult(
            external_id=remote.credit_note_id,
            external_status=str(remote.status or ""),
            subtotal=_money(remote.sub_total),
            total_tax=_money(remote.total_tax),
            total=_money(remote.total),
        )

    def payment_reference(self, payment: OmsPayment) -> str:
        marker = f"OMS-PAY-{payment.pk}"
        return f"{marker} {payment.reference}".strip()[:255]

    def push_payment(
        self,
        payment: OmsPayment,
        *,
        invoice_external_id: str,
        external_id: str,
        idempotency_key: str,
        maybe_exists: bool = True,
    ) -> PushResult:
        if external_id:
            return PushResult(external_id=external_id)  # Xero payments are never edited
        marker = f"OMS-PAY-{payment.pk}"
        if maybe_exists:
            for remote in self.invoice_payments(invoice_external_id):
                if remote.reference.startswith(marker):
                    return PushResult(external_id=remote.external_id)
        body = Payment(
            invoice=XeroInvoice(invoice_id=invoice_external_id),
            account=Account(code=self.mapping.bank_account_for(payment.method)),
            amount=payment.amount,
            date=payment.date,
            reference=self.payment_reference(payment),
        )
        result = self._call(self.api.create_payment, body, idempotency_key=idempotency_key)
        return PushResult(external_id=result.payments[0].payment_id)

    def pull_payments(self, *, since: datetime | None) -> RemotePayments:
        polled_at = timezone.now()
        payments: list[RemotePayment] = []
        page = 1
        while True:
            kwargs: dict[str, Any] = {"page": page}
            if since:
                kwargs["if_modified_since"] = since
            result = self._call(self.api.get_payments, **kwargs)
            batch = result.payments or []
            for remote in batch:
                if remote.invoice is None or not remote.invoice.invoice_id:
                    continue
                if str(remote.payment_type or "ACCRECPAYMENT") != "ACCRECPAYMENT":
                    continue
                payments.append(self._remote_payment(remote, remote.invoice.invoice_id))
            if len(batch) < 100:
                break
            page += 1
        return RemotePayments(payments=payments, polled_at=polled_at)

    def invoice_payments(self, invoice_external_id: str) -> list[RemotePayment]:
        result = self._call(self.api.get_invoice, invoice_external_id)
        remote_invoice = (result.invoices or [None])[0]
        if remote_invoice is None:
            return []
        return [
            self._remote_payment(remote, invoice_external_id)
            for remote in (remote_invoice.payments or [])
        ]

    def _remote_payment(self, remote, invoice_external_id: str) -> RemotePayment:
        return RemotePayment(
            external_id=remote.payment_id,
            invoice_external_id=invoice_external_id,
            amount=_money(remote.amount) or Decimal("0.00"),
            date=remote.date,
            reference=remote.reference or "",
            status=str(remote.status or "AUTHORISED"),
        )
