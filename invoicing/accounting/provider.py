"""The small interface every accounting provider implements, and the errors it may raise.

Services speak only this interface, so a second provider (QuickBooks) is one more class
beside XeroProvider. Every create takes an idempotency key that is deterministic per record
and version, and every method first honours a stored external id.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from customers.models import Customer
from invoicing.models import Invoice, Payment


class SyncError(Exception):
    """Base of everything a provider call can raise; the message is safe to show finance."""

    retryable = True

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class TransientError(SyncError):
    """Network trouble, 5xx: retry with backoff."""


class RateLimited(SyncError):
    """Per-minute or concurrency limit: retry after `retry_after` seconds, not sooner."""

    def __init__(self, message: str, *, retry_after: float, status_code: int | None = 429):
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class DailyLimitReached(SyncError):
    """The organisation's daily call budget is spent: park until the reset."""

    def __init__(self, message: str, *, retry_after: float, status_code: int | None = 429):
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ValidationFailed(SyncError):
    """The provider refused the data (400). Retrying the same data cannot help."""

    retryable = False


class NotConnected(SyncError):
    """No usable connection: never connected, disconnected, or the grant was revoked."""

    retryable = False


class Busy(SyncError):
    """Another worker is pushing this record right now."""


@dataclass(frozen=True)
class PushResult:
    external_id: str
    external_status: str = ""
    total: Decimal | None = None
    total_tax: Decimal | None = None
    subtotal: Decimal | None = None


@dataclass(frozen=True)
class RemotePayment:
    external_id: str
    invoice_external_id: str
    amount: Decimal
    date: date | None
    reference: str
    status: str


@dataclass(frozen=True)
class RemotePayments:
    payments: list[RemotePayment]
    polled_at: datetime


class AccountingProvider(Protocol):
    name: str

    def push_contact(
        self, customer: Customer, *, external_id: str, idempotency_key: str
    ) -> PushResult: ...

    def push_invoice(
        self, invoice: Invoice, *, contact_id: str, external_id: str, idempotency_key: str
    ) -> PushResult: ...

    def push_credit_note(
        self,
        credit_note: Invoice,
        *,
        contact_id: str,
        external_id: str,
        idempotency_key: str,
        invoice_external_id: str,
    ) -> PushResult: ...

    def push_payment(
        self,
        payment: Payment,
        *,
        invoice_external_id: str,
        external_id: str,
        idempotency_key: str,
    ) -> PushResult: ...

    def pull_payments(self, *, since: datetime | None) -> RemotePayments: ...

    def invoice_payments(self, invoice_external_id: str) -> list[RemotePayment]: ...
