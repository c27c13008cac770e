"""A fake Xero on 127.0.0.1: identity (token rotation, revocation, connections) and the parts
of the Accounting API the OMS uses, with Xero's own totals arithmetic and programmable faults.

The real xero-python client talks to it over HTTP; nothing of ours is mocked.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"
TENANT_ID = "7a1c3b52-0000-4000-8000-000000000001"
TENANT_NAME = "Acme Services Ltd (Xero)"
TAX_RATES = {
    "OUTPUT2": Decimal("20"),
    "RROUTPUT": Decimal("5"),
    "ZERORATEDOUTPUT": Decimal("0"),
    "EXEMPTOUTPUT": Decimal("0"),
    "NONE": Decimal("0"),
}
CENT = Decimal("0.01")


def xero_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ms_date(value: date | datetime) -> str:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return f"/Date({int(value.timestamp() * 1000)}+0000)/"


def parse_date(value) -> date | None:
    if not value:
        return None
    match = re.match(r"/Date\((-?\d+)", str(value))
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    return date.fromisoformat(str(value)[:10])


@dataclass
class Fault:
    method: str
    path: str
    kind: str  # "429", "429-day", "400", "403", "500", "drop"
    times: int = 1
    retry_after: float = 1
    message: str = "A validation error occurred"


@dataclass
class Call:
    method: str
    path: str
    started: float
    ended: float = 0.0
    tenant: str = ""
    idempotency_key: str = ""
    authorization: str = ""


@dataclass
class FakeXero:
    """State and knobs; `server` serves it."""

    latency: float = 0.0
    access_token_seconds: int = 1800
    lock: threading.Lock = field(default_factory=threading.Lock)
    access_tokens: dict = field(default_factory=dict)
    refresh_tokens: set = field(default_factory=set)
    spent_refresh_tokens: set = field(default_factory=set)
    auth_codes: set = field(default_factory=set)
    refresh_calls: int = 0
    revoked: list = field(default_factory=list)
    contacts: dict = field(default_factory=dict)
    invoices: dict = field(default_factory=dict)
    credit_notes: dict = field(default_factory=dict)
    payments: dict = field(default_factory=dict)
    idempotent: dict = field(default_factory=dict)
    faults: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    day_calls: int = 0
    issued_tokens: list = field(default_factory=list)

    # --- knobs for tests ------------------------------------------------------------

    def fail_next(self, method: str, path: str, kind: str, **options) -> None:
        with self.lock:
            self.faults.append(Fault(method=method, path=path, kind=kind, **options))

    def issue_code(self) -> str:
        code = f"code-{uuid.uuid4().hex}"
        with self.lock:
            self.auth_codes.add(code)
        return code

    def issue_tokens(self, *, expires_in: int | None = None) -> dict:
        access = f"at-{uuid.uuid4().hex}"
        refresh = f"rt-{uuid.uuid4().hex}"
        seconds = self.access_token_seconds if expires_in is None else expires_in
        self.access_tokens[access] = time.time() + seconds
        self.refresh_tokens.add(refresh)
        self.issued_tokens += [access, refresh]
        return {
            "id_token": f"id-{uuid.uuid4().hex}",
            "access_token": access,
            "expires_in": seconds,
            "token_type": "Bearer",
            "refresh_token": refresh,
            "scope": "offline_access accounting.transactions accounting.contacts",
        }

    def api_calls(self, prefix: str = "/api.xro/2.0") -> list[Call]:
        return [call for call in self.calls if call.path.startswith(prefix)]

    def pay_in_xero(self, invoice_id: str, amount: Decimal, *, reference: str = "") -> dict:
        """Someone records a payment in Xero itself."""
        with self.lock:
            return self._add_payment(
                invoice_id, Decimal(amount), date.today(), reference or "Bank receipt", "090"
            )

    # --- Xero arithmetic ------------------------------------------------------------

    def _lines(self, items: list[dict]) -> tuple[list[dict], Decimal, Decimal]:
        lines, subtotal, total_tax = [], Decimal("0"), Decimal("0")
        for item in items:
            quantity = Decimal(str(item.get("Quantity", 1)))
            unit = Decimal(str(item.get("UnitAmount", 0)))
            discount = Decimal(str(item.get("DiscountRate") or 0))
            line_amount = xero_money(quantity * unit * (Decimal(100) - discount) / Decimal(100))
            rate = TAX_RATES[item["TaxType"]]
            tax = xero_money(line_amount * rate / Decimal(100))
            lines.append(
                {
                    **item,
                    "LineItemID": str(uuid.uuid4()),
                    "LineAmount": line_amount,
                    "TaxAmount": tax,
                }
            )
            subtotal += line_amount
            total_tax += tax
        return lines, subtotal, total_tax

    def _validate_document(self, doc: dict, *, number_field: str) -> list[str]:
        errors = []
        contact_id = (doc.get("Contact") or {}).get("ContactID")
        if contact_id not in self.contacts:
            errors.append("The contact could not be found.")
        for item in doc.get("LineItems") or []:
            if item.get("TaxType") not in TAX_RATES:
                errors.append(f"The TaxType code '{item.get('TaxType')}' does not exist.")
            if not item.get("AccountCode"):
                errors.append("An account code must be specified.")
        if not doc.get("LineItems"):
            errors.append("At least one line item is required.")
        return errors

    def _document(self, doc: dict, existing: dict | None, *, id_field: str) -> dict:
        lines, subtotal, total_tax = self._lines(doc.get("LineItems") or [])
        contact = self.contacts[doc["Contact"]["ContactID"]]
        record = dict(existing or {})
        record.update(
            {
                id_field: (existing or {}).get(id_field) or str(uuid.uuid4()),
                "Type": doc.get("Type"),
                "Status": doc.get("Status") or "DRAFT",
                "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
                "LineItems": lines,
                "Date": doc.get("Date"),
                "DueDate": doc.get("DueDate"),
                "Reference": doc.get("Reference", ""),
                "CurrencyCode": doc.get("CurrencyCode", "GBP"),
                "LineAmountTypes": doc.get("LineAmountTypes", "Exclusive"),
                "SubTotal": subtotal,
                "TotalTax": total_tax,
                "Total": subtotal + total_tax,
                "UpdatedDateUTC": ms_date(datetime.now(UTC)),
                "_updated": time.time(),
            }
        )
        record.setdefault("Payments", [])
        record.setdefault("AmountPaid", Decimal("0"))
        record.setdefault("AmountCredited", Decimal("0"))
        record["AmountDue"] = record["Total"] - record["AmountPaid"] - record["AmountCredited"]
        return record

    def _add_payment(
        self, invoice_id: str, amount: Decimal, paid_on: date, reference: str, account: str
    ) -> dict:
        invoice = self.invoices[invoice_id]
        payment = {
            "PaymentID": str(uuid.uuid4()),
            "Invoice": {"InvoiceID": invoice_id, "InvoiceNumber": invoice.get("InvoiceNumber")},
            "Account": {"Code": account},
            "Amount": xero_money(amount),
            "Date": ms_date(paid_on),
            "Reference": reference,
            "Status": "AUTHORISED",
            "PaymentType": "ACCRECPAYMENT",
            "UpdatedDateUTC": ms_date(datetime.now(UTC)),
            "_updated": time.time(),
        }
        self.payments[payment["PaymentID"]] = payment
        invoice["Payments"].append(
            {k: payment[k] for k in ("PaymentID", "Date", "Amount", "Reference")}
        )
        invoice["AmountPaid"] += payment["Amount"]
        invoice["AmountDue"] = invoice["Total"] - invoice["AmountPaid"] - invoice["AmountCredited"]
        invoice["Status"] = "PAID" if invoice["AmountDue"] <= 0 else invoice["Status"]
        invoice["_updated"] = time.time()
        return payment


def _public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_") and v is not None}


def _encode(data) -> bytes:
    def default(value):
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(type(value))

    return json.dumps(data, default=default).encode()


def _where_equals(where: str, name: str) -> str | None:
    match = re.search(name + r'\s*==\s*"((?:[^"\\]|\\.)*)"', where or "")
    if not match:
        return None
    return re.sub(r"\\(.)", r"\1", match.group(1))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake: FakeXero

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    # --- plumbing -------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlparse(self.path)
        call = Call(
            method=method,
            path=url.path,
            started=time.monotonic(),
            tenant=self.headers.get("xero-tenant-id", ""),
            idempotency_key=self.headers.get("Idempotency-Key", ""),
            authorization=self.headers.get("Authorization", ""),
        )
        with fake.lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            fake.calls.append(call)
        try:
            if fake.latency and url.path.startswith("/api.xro"):
                time.sleep(fake.latency)
            try:
                status, body, headers, drop = self._route(method, url, raw)
            except Exception as error:  # a bug in the fake shows as a 500 with its message
                status, body, headers, drop = 500, {"Message": repr(error)}, None, False
        finally:
            with fake.lock:
                fake.in_flight -= 1
                call.ended = time.monotonic()
        if drop:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        payload = _encode(body) if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.fake.lock:
            for fault in self.fake.faults:
                if fault.method == method and fault.path in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _route(self, method: str, url, raw: bytes):
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if path == "/connect/token" and method == "POST":
            return (*self._token(parse_qs(raw.decode())), None, False)
        if path == "/connect/revocation" and method == "POST":
            token = parse_qs(raw.decode()).get("token", [""])[0]
            with self.fake.lock:
                self.fake.refresh_tokens.discard(token)
                self.fake.revoked.append(token)
            return 200, None, None, False
        if not self._authorised():
            return 401, {"Title": "Unauthorized", "Status": 401}, None, False
        if path.lower() == "/connections":
            return (
                200,
                [
                    {
                        "id": str(uuid.uuid4()),
                        "tenantId": TENANT_ID,
                        "tenantType": "ORGANISATION",
                        "tenantName": TENANT_NAME,
                    }
                ],
                None,
                False,
            )
        if not path.startswith("/api.xro/2.0/"):
            return 404, {"Message": "Not found"}, None, False
        if self.headers.get("xero-tenant-id") != TENANT_ID:
            return 403, {"Title": "Forbidden"}, None, False
        fault = self._fault(method, path)
        if fault and fault.kind.startswith("429"):
            problem = "day" if fault.kind == "429-day" else "minute"
            headers = {"Retry-After": f"{fault.retry_after:g}", "X-Rate-Limit-Problem": problem}
            return 429, {"Title": "Too Many Requests"}, headers, False
        if fault and fault.kind == "400":
            return 400, self._validation_body(fault.message), None, False
        if fault and fault.kind == "403":
            return 403, {"Title": "Forbidden", "Detail": "AuthenticationUnsuccessful"}, None, False
        if fault and fault.kind == "500":
            return 500, {"Title": "An error occurred"}, None, False
        key = self.headers.get("Idempotency-Key", "")
        if key and method in ("PUT", "POST"):
            with self.fake.lock:
                if key in self.fake.idempotent:
                    status, body = self.fake.idempotent[key]
                    return status, body, None, False
        status, body = self._api(method, path[len("/api.xro/2.0") :], query, raw)
        if key and method in ("PUT", "POST") and status == 200:
            with self.fake.lock:
                self.fake.idempotent[key] = (status, body)
        with self.fake.lock:
            self.fake.day_calls += 1
            remaining = max(5000 - self.fake.day_calls, 0)
        headers = {"X-DayLimit-Remaining": str(remaining)}
        return status, body, headers, bool(fault and fault.kind == "drop")

    def _validation_body(self, *messages: str) -> dict:
        return {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": m} for m in messages]}],
        }

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        with self.fake.lock:
            expires = self.fake.access_tokens.get(token)
        return bool(expires and expires > time.time())

    def _token(self, form: dict):
        grant = form.get("grant_type", [""])[0]
        client_ok = (
            form.get("client_id", [""])[0] == CLIENT_ID
            and form.get("client_secret", [""])[0] == CLIENT_SECRET
        )
        if not client_ok:
            return 400, {"error": "invalid_client"}
        fake = self.fake
        with fake.lock:
            if grant == "authorization_code":
                code = form.get("code", [""])[0]
                if code not in fake.auth_codes:
                    return 400, {"error": "invalid_grant"}
                fake.auth_codes.discard(code)
                return 200, fake.issue_tokens()
            if grant == "refresh_token":
                token = form.get("refresh_token", [""])[0]
                fake.refresh_calls += 1
                if token not in fake.refresh_tokens:
                    return 400, {"error": "invalid_grant"}
                fake.refresh_tokens.discard(token)  # single use: rotation
                fake.spent_refresh_tokens.add(token)
                return 200, fake.issue_tokens()
        return 400, {"error": "unsupported_grant_type"}

    # --- the Accounting API ---------------------------------------------------------

    def _api(self, method: str, path: str, query: dict, raw: bytes):
        fake = self.fake
        body = json.loads(raw, parse_float=Decimal) if raw else {}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        resource = parts[0]
        with fake.lock:
            if resource == "Contacts":
                return self._contacts(method, parts, query, body)
            if resource == "Invoices":
                return self._invoices(method, parts, query, body)
            if resource == "CreditNotes":
                return self._credit_notes(method, parts, query, body)
            if resource == "Payments":
                return self._payments(method, parts, query, body)
        return 404, {"Message": f"No such resource {resource}"}

    def _contacts(self, method, parts, query, body):
        fake = self.fake
        if method == "GET":
            name = _where_equals(query.get("where", ""), "Name")
            found = [c for c in fake.contacts.values() if name is None or c["Name"] == name]
            return 200, {"Contacts": found}
        contacts = []
        for contact in body.get("Contacts", []):
            if len(parts) > 1:
                existing = fake.contacts.get(parts[1])
                if existing is None:
                    return 404, {"Message": "Contact not found"}
                existing.update({k: v for k, v in contact.items() if k != "ContactID"})
                contacts.append(existing)
                continue
            if any(c["Name"] == contact.get("Name") for c in fake.contacts.values()):
                return 400, self._validation_body(
                    "The contact name must be unique across all active contacts."
                )
            record = {**contact, "ContactID": str(uuid.uuid4()), "ContactStatus": "ACTIVE"}
            fake.contacts[record["ContactID"]] = record
            contacts.append(record)
        return 200, {"Contacts": contacts}

    def _invoices(self, method, parts, query, body):
        fake = self.fake
        if method == "GET":
            if len(parts) > 1:
                invoice = fake.invoices.get(parts[1])
                if invoice is None:
                    return 404, {"Message": "Invoice not found"}
                return 200, {"Invoices": [_public(invoice)]}
            found = list(fake.invoices.values())
            numbers = query.get("InvoiceNumbers")
            if numbers:
                wanted = {n.strip(" []'\"") for n in numbers.split(",")}
                found = [i for i in found if i.get("InvoiceNumber") in wanted]
            since = self.headers.get("If-Modified-Since")
            if since:
                cutoff = datetime.fromisoformat(since).timestamp()
                found = [i for i in found if i["_updated"] >= cutoff]
            return 200, {"Invoices": [_public(i) for i in found]}
        results = []
        for doc in body.get("Invoices", []):
            existing = fake.invoices.get(parts[1]) if len(parts) > 1 else None
            if len(parts) > 1 and existing is None:
                return 404, {"Message": "Invoice not found"}
            if existing and existing["Status"] not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                return 400, self._validation_body("This invoice cannot be edited.")
            errors = fake._validate_document(doc, number_field="InvoiceNumber")
            number = doc.get("InvoiceNumber")
            if not existing and any(
                i.get("InvoiceNumber") == number for i in fake.invoices.values()
            ):
                errors.append("Invoice # must be unique.")
            if errors:
                return 400, self._validation_body(*errors)
            record = fake._document(doc, existing, id_field="InvoiceID")
            record["InvoiceNumber"] = number
            fake.invoices[record["InvoiceID"]] = record
            results.append(_public(record))
        return 200, {"Invoices": results}

    def _credit_notes(self, method, parts, query, body):
        fake = self.fake
        if method == "GET":
            number = _where_equals(query.get("where", ""), "CreditNoteNumber")
            found = [
                _public(c)
                for c in fake.credit_notes.values()
                if number is None or c.get("CreditNoteNumber") == number
            ]
            return 200, {"CreditNotes": found}
        if len(parts) > 2 and parts[2] == "Allocations":
            note = fake.credit_notes.get(parts[1])
            allocations = body.get("Allocations", [])
            for allocation in allocations:
                invoice = fake.invoices[allocation["Invoice"]["InvoiceID"]]
                amount = Decimal(str(allocation["Amount"]))
                if amount > invoice["AmountDue"]:
                    return 400, self._validation_body("The allocation exceeds the amount due.")
                invoice["AmountCredited"] += amount
                invoice["AmountDue"] -= amount
                note["RemainingCredit"] = note["Total"] - amount
            return 200, {"Allocations": allocations}
        results = []
        for doc in body.get("CreditNotes", []):
            existing = fake.credit_notes.get(parts[1]) if len(parts) > 1 else None
            errors = fake._validate_document(doc, number_field="CreditNoteNumber")
            if errors:
                return 400, self._validation_body(*errors)
            record = fake._document(doc, existing, id_field="CreditNoteID")
            record["CreditNoteNumber"] = doc.get("CreditNoteNumber")
            record["RemainingCredit"] = record["Total"]
            fake.credit_notes[record["CreditNoteID"]] = record
            results.append(_public(record))
        return 200, {"CreditNotes": results}

    def _payments(self, method, parts, query, body):
        fake = self.fake
        if method == "GET":
            found = sorted(fake.payments.values(), key=lambda p: p["_updated"])
            since = self.headers.get("If-Modified-Since")
            if since:
                cutoff = datetime.fromisoformat(since).timestamp()
                found = [p for p in found if p["_updated"] >= cutoff]
            page = int(query.get("page", 1))
            found = found[(page - 1) * 100 : page * 100]
            return 200, {"Payments": [_public(p) for p in found]}
        docs = body.get("Payments") or [body]
        results = []
        for doc in docs:
            invoice_id = (doc.get("Invoice") or {}).get("InvoiceID")
            if invoice_id not in fake.invoices:
                return 400, self._validation_body("Invoice could not be found.")
            amount = Decimal(str(doc.get("Amount")))
            if amount > fake.invoices[invoice_id]["AmountDue"]:
                return 400, self._validation_body("Payment amount exceeds the amount due.")
            payment = fake._add_payment(
                invoice_id,
                amount,
                parse_date(doc.get("Date")) or date.today(),
                doc.get("Reference", ""),
                (doc.get("Account") or {}).get("Code", ""),
            )
            results.append(_public(payment))
        return 200, {"Payments": results}


class FakeXeroServer:
    """Runs a FakeXero on 127.0.0.1 in a background thread."""

    def __init__(self, fake: FakeXero | None = None):
        self.fake = fake or FakeXero()
        handler = type("BoundHandler", (Handler,), {"fake": self.fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeXeroServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def sign(body: bytes, key: str) -> str:
    """Xero's webhook signature: base64 of HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def webhook_body(events: list[dict]) -> bytes:
    return json.dumps(
        {
            "events": events,
            "firstEventSequence": 1,
            "lastEventSequence": len(events),
            "entropy": uuid.uuid4().hex,
        }
    ).encode()


def invoice_event(invoice_id: str, *, when: str = "2026-11-27T01:00:00.000") -> dict:
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
        "resourceId": invoice_id,
        "eventDateUtc": when,
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": TENANT_ID,
        "tenantType": "ORGANISATION",
    }
