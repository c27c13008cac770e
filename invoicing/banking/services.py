"""Bank statement services: import a CSV, propose matches, and let finance decide.

Importing stores the statement and its money-in lines and proposes, for each line, the
open invoices it pays (by the invoice or order number in its reference, else by amount).
Nothing is recorded until finance confirms a line: confirming records one receipt through
invoicing.services.receive_payment (allocations settle invoices, any excess becomes
customer credit) and keeps that receipt on the line, so a line is recorded at most once.
The same file is refused a second time, and a line already seen in an earlier statement is
marked as such and never matched again. All of it is finance's work.
"""

import csv
import hashlib
import io
import re
from collections import defaultdict
from datetime import date as Date
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import combinations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from invoicing.banking.models import BankLine, BankMatch, BankStatement
from invoicing.models import Invoice
from invoicing.services import receive_payment
from oms import money
from oms.accounts.roles import Role, has_role
from oms.outbox.publish import publish

ZERO = money.ZERO
MAX_ERRORS = 20
# Subset search stays cheap: combinations of at most this many of one customer's invoices.
MAX_SUBSET = 4
MAX_CANDIDATES_PER_CUSTOMER = 25

# Header names banks use, normalised to lower-case words.
COLUMNS = {
    "date": (
        "date",
        "transaction date",
        "posting date",
        "posted date",
        "booking date",
        "value date",
        "txn date",
    ),
    "amount": ("amount", "value", "credit", "paid in", "money in", "credit amount", "amount in"),
    "reference": (
        "reference",
        "description",
        "details",
        "narrative",
        "memo",
        "payment reference",
        "transaction description",
        "particulars",
    ),
    "payer": ("payer", "name", "payer name", "counterparty", "counter party", "from", "payee"),
}
# Columns that carry only money in: an empty cell there is a money-out row.
MONEY_IN_ONLY = {"credit", "paid in", "money in", "credit amount", "amount in"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%d/%m/%y")
INVOICE_NUMBER = re.compile(r"\bINV[\s\-_/]?(\d{4})[\s\-_/]?(\d{5})\b", re.IGNORECASE)
ORDER_NUMBER = re.compile(r"\bORD[\s\-_/]?(\d{4})[\s\-_/]?(\d{5})\b", re.IGNORECASE)


def _ensure_finance(by, action: str) -> None:
    if by is not None and not has_role(by, Role.FINANCE):
        raise PermissionDenied(f"Only finance may {action}.")


# --- reading the file ------------------------------------------------------------------


def _header_key(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", (name or "").lower()).split())


def _find_columns(headers: list[str]) -> dict[str, str]:
    keys = {_header_key(header): header for header in headers if header}
    found = {}
    for field, names in COLUMNS.items():
        for name in names:
            if name in keys:
                found[field] = keys[name]
                break
    missing = [field for field in ("date", "amount", "reference") if field not in found]
    if missing:
        wanted = "; ".join(f"{field}: {', '.join(COLUMNS[field][:4])}" for field in missing)
        raise ValidationError(
            f"The file has no {' or '.join(missing)} column. Its first row must name the "
            f"columns ({wanted} …)."
        )
    return found


def _parse_date(text: str) -> Date:
    text = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"“{text}” is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def _parse_amount(text: str) -> Decimal:
    raw = (text or "").strip()
    cleaned = re.sub(r"[£$€\s,]", "", raw)
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"amount “{raw}” is not a number") from None
    if not amount.is_finite() or amount != amount.quantize(money.CENT):
        raise ValueError(f"amount “{raw}” is not an amount of money")
    return -amount if negative else amount


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read). Export the "
            "statement as “CSV UTF-8” and upload it again."
        ) from None


def parse_statement(content: bytes) -> tuple[list[dict], int]:
    """The money-in rows of a bank statement CSV and how many money-out rows were skipped.
    Refuses the whole file, naming each bad row, if any row cannot be read."""
    text = _decode(content)
    if not text.strip():
        raise ValidationError("The file is empty.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    try:
        columns = _find_columns(reader.fieldnames or [])
    except csv.Error as error:
        raise ValidationError(f"The file is not a readable CSV: {error}.") from None
    rows, errors, skipped = [], [], 0
    try:
        for record in reader:
            row_number = reader.line_num
            if not any(
                (value or "").strip() for value in record.values() if isinstance(value, str)
            ):
                continue
            raw_amount = (record.get(columns["amount"]) or "").strip()
            if not raw_amount and _header_key(columns["amount"]) in MONEY_IN_ONLY:
                skipped += 1  # a paid-out row in a statement with separate in and out columns
                continue
            try:
                day = _parse_date(record.get(columns["date"]) or "")
                amount = _parse_amount(raw_amount)
            except ValueError as error:
                errors.append(f"Row {row_number}: {error}.")
                continue
            if amount <= ZERO:
                skipped += 1  # money out: nothing to match against invoices
                continue
            rows.append(
                {
                    "row_number": row_number,
                    "date": day,
                    "amount": amount,
                    "reference": (record.get(columns["reference"]) or "").strip()[:500],
                    "payer": (record.get(columns.get("payer", "")) or "").strip()[:200]
                    if "payer" in columns
                    else "",
                }
            )
    except csv.Error as error:
        errors.append(f"Row {reader.line_num}: {error}.")
    if errors:
        shown = " ".join(errors[:MAX_ERRORS])
        more = f" And {len(errors) - MAX_ERRORS} more." if len(errors) > MAX_ERRORS else ""
        raise ValidationError(f"Nothing was imported. {shown}{more}")
    if not rows:
        raise ValidationError("The file has no money-in lines to match.")
    return rows, skipped


def _fingerprint(row: dict, seen: dict[str, int]) -> str:
    base = "|".join(
        [
            row["date"].isoformat(),
            str(row["amount"]),
            " ".join(row["reference"].lower().split()),
            " ".join(row["payer"].lower().split()),
        ]
    )
    seen[base] += 1
    return hashlib.sha256(f"{base}|{seen[base]}".encode()).hexdigest()


# --- proposing matches -------------------------------------------------------------------


def _open_invoices(currency: str) -> list[Invoice]:
    return list(
        Invoice.objects.receivable()
        .filter(currency=currency)
        .select_related("customer", "order")
        .order_by("due_date", "id")
    )


def _allocate(invoices: list[Invoice], amount: Decimal) -> list[tuple[Invoice, Decimal]]:
    """Oldest first, each up to what it still owes; the rest becomes customer credit."""
    shares, left = [], amount
    for invoice in invoices:
        if left <= ZERO:
            break
        share = min(invoice.outstanding, left)
        if share > ZERO:
            shares.append((invoice, share))
            left -= share
    return shares


def _names_in(text: str, customers: list[Customer]) -> list[Customer]:
    text = text.lower()
    return [c for c in customers if c.name and c.name.lower() in text]


def _subset_summing_to(invoices: list[Invoice], amount: Decimal) -> list[list[Invoice]]:
    found = []
    for size in range(2, min(MAX_SUBSET, len(invoices)) + 1):
        for group in combinations(invoices, size):
            if sum((i.outstanding for i in group), ZERO) == amount:
                found.append(list(group))
                if len(found) > 1:
                    return found
    return found


def propose(line: BankLine, candidates: list[Invoice]) -> tuple[Customer | None, list, str]:
    """(customer, [(invoice, amount)], note) for one line, or no invoices and a note saying
    why nothing was proposed. Reads only."""
    text = f"{line.reference} {line.payer}"
    numbers = {f"INV-{y}-{n}" for y, n in INVOICE_NUMBER.findall(text)}
    orders = {f"ORD-{y}-{n}" for y, n in ORDER_NUMBER.findall(text)}
    named = [i for i in candidates if i.number in numbers or i.order.number in orders]
    if named:
        customers = {i.customer_id for i in named}
        if len(customers) > 1:
            return None, [], "The reference names invoices of more than one customer."
        shares = _allocate(named, line.amount)
        return named[0].customer, shares, "Invoice or order number in the reference."
    exact = [i for i in candidates if i.outstanding == line.amount]
    if len(exact) > 1:
        by_name = _names_in(text, list({i.customer_id: i.customer for i in exact}.values()))
        if len(by_name) == 1:
            exact = [i for i in exact if i.customer_id == by_name[0].pk]
    if len(exact) == 1:
        return exact[0].customer, [(exact[0], line.amount)], "Exactly the amount outstanding."
    if len(exact) > 1:
        return None, [], f"{len(exact)} open invoices are for exactly this amount; choose one."
    per_customer: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in candidates:
        per_customer[invoice.customer_id].append(invoice)
    groups = []
    for invoices in per_customer.values():
        if len(invoices) <= MAX_CANDIDATES_PER_CUSTOMER:
            groups.extend(_subset_summing_to(invoices, line.amount))
        if len(groups) > 1:
            break
    if len(groups) == 1:
        group = groups[0]
        return (
            group[0].customer,
            [(i, i.outstanding) for i in group],
            f"{len(group)} invoices of {group[0].customer} add up to the amount.",
        )
    if groups:
        return None, [], "Several groups of invoices add up to this amount; choose them."
    payer = _names_in(text, list({i.customer_id: i.customer for i in candidates}.values()))
    if len(payer) == 1:
        return payer[0], [], f"Looks like {payer[0]}, but no open invoice matches the amount."
    return None, [], "No open invoice matches the reference or the amount."


def _set_proposal(line: BankLine, customer, shares, note: str) -> None:
    line.matches.all().delete()
    for invoice, amount in shares:
        BankMatch.objects.create(line=line, invoice=invoice, amount=amount)
    line.customer = customer
    allocated = sum((amount for _, amount in shares), ZERO)
    if customer is not None and (shares or line.status == BankLine.Status.PROPOSED):
        line.status = BankLine.Status.PROPOSED
    else:
        line.status = BankLine.Status.UNMATCHED
    if shares and line.amount > allocated:
        note += (
            f" {line.statement.currency} {line.amount - allocated} over becomes customer credit."
        )
    line.match_note = note[:300]


# --- the services ------------------------------------------------------------------------


def import_statement(*, by, filename: str, content: bytes, currency: str) -> BankStatement:
    """Store a statement and its money-in lines, each with a proposed match or left
    unmatched. Refuses a file already imported, and any malformed file as a whole.
    Records no money. Publishes bank_statement.imported."""
    _ensure_finance(by, "import bank statements")
    currency = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationError("Choose the statement's currency (three letters, e.g. GBP).")
    digest = hashlib.sha256(content).hexdigest()
    earlier = BankStatement.objects.filter(digest=digest).first()
    if earlier is not None:
        raise ValidationError(
            f"This statement was already imported on {earlier.uploaded_at:%d %b %Y} as "
            f"“{earlier.filename}”; nothing has been imported twice."
        )
    rows, skipped = parse_statement(content)
    candidates = _open_invoices(currency)
    with transaction.atomic():
        statement = BankStatement.objects.create(
            filename=(filename or "statement.csv")[:255],
            digest=digest,
            currency=currency,
            uploaded_by=by,
        )
        seen: dict[str, int] = defaultdict(int)
        for row in rows:
            line = BankLine(statement=statement, **row)
            line.fingerprint = _fingerprint(row, seen)
            line.duplicate_of = (
                BankLine.objects.filter(fingerprint=line.fingerprint)
                .exclude(status=BankLine.Status.DUPLICATE)
                .order_by("id")
                .first()
            )
            if line.duplicate_of is not None:
                line.status = BankLine.Status.DUPLICATE
                line.match_note = f"Already imported in {line.duplicate_of.statement}."
                line.save()
                continue
            line.save()
            customer, shares, note = propose(line, candidates)
            _set_proposal(line, customer, shares, note)
            line.save()
        publish(
            "bank_statement.imported",
            subject=statement,
            actor=by,
            lines=len(rows),
            skipped_money_out=skipped,
        )
    statement.skipped_money_out = skipped
    return statement


def _lock_line(line: BankLine | int) -> BankLine:
    pk = line if isinstance(line, int) else line.pk
    return BankLine.objects.select_for_update().select_related("statement").get(pk=pk)


def confirm_line(line: BankLine, *, by) -> BankLine:
    """Record the proposed match: one receipt from the customer, its allocations paying
    the invoices and any excess kept as customer credit (through receive_payment)."""
    _ensure_finance(by, "record payments")
    with transaction.atomic():
        line = _lock_line(line)
        if line.status == BankLine.Status.CONFIRMED:
            raise ValidationError(f"Row {line.row_number} is already recorded.")
        if line.status != BankLine.Status.PROPOSED or line.customer_id is None:
            raise ValidationError(
                f"Row {line.row_number} has no match to confirm; choose the invoices first."
            )
        if BankLine.objects.filter(
            fingerprint=line.fingerprint, status=BankLine.Status.CONFIRMED
        ).exists():
            raise ValidationError(
                f"Row {line.row_number} was already recorded from another statement."
            )
        receipt = receive_payment(
            line.customer,
            by=by,
            amount=line.amount,
            currency=line.statement.currency,
            allocations={match.invoice_id: match.amount for match in line.matches.all()},
            date=line.date,
            reference=(line.reference or line.payer or f"Bank row {line.row_number}")[:128],
        )
        line.receipt = receipt
        line.status = BankLine.Status.CONFIRMED
        line.resolved_by = by
        line.resolved_at = timezone.now()
        line.save()
    return line


def change_line(
    line: BankLine, *, by, invoice_numbers: str = "", customer: Customer | None = None
) -> BankLine:
    """Finance chooses the match: the invoices named (one customer's, oldest first up to
    what each owes, the rest as credit) or, with no invoices, all of it as credit for
    `customer`. The line waits for confirmation; nothing is recorded yet."""
    _ensure_finance(by, "match bank lines")
    with transaction.atomic():
        line = _lock_line(line)
        if not line.is_open:
            raise ValidationError(f"Row {line.row_number} is {line.get_status_display().lower()}.")
        numbers = [n.strip().upper() for n in re.split(r"[\s,;]+", invoice_numbers or "") if n]
        invoices = []
        if numbers:
            invoices = list(
                Invoice.objects.receivable()
                .filter(number__in=numbers)
                .select_related("customer")
                .order_by("due_date", "id")
            )
            missing = sorted(set(numbers) - {i.number for i in invoices})
            if missing:
                raise ValidationError(
                    f"{', '.join(missing)}: no such open invoice (paid, void or mistyped)."
                )
            if len({i.customer_id for i in invoices}) > 1:
                raise ValidationError("Choose invoices of one customer for one bank line.")
            wrong = [i for i in invoices if i.currency != line.statement.currency]
            if wrong:
                raise ValidationError(
                    f"{wrong[0]} is in {wrong[0].currency}; this statement is in "
                    f"{line.statement.currency}."
                )
            if customer is not None and customer.pk != invoices[0].customer_id:
                raise ValidationError(f"{invoices[0]} is not {customer}'s invoice.")
            customer = invoices[0].customer
        if customer is None:
            raise ValidationError("Name the invoices, or the customer to hold it all as credit.")
        line.status = BankLine.Status.PROPOSED
        note = f"Chosen by {by}." if invoices else f"All of it as credit for {customer}."
        _set_proposal(line, customer, _allocate(invoices, line.amount), note)
        line.save()
    return line


def reject_line(line: BankLine, *, by) -> BankLine:
    """The proposal is wrong: the line goes back to unmatched, still on the statement."""
    _ensure_finance(by, "match bank lines")
    with transaction.atomic():
        line = _lock_line(line)
        if line.status != BankLine.Status.PROPOSED:
            raise ValidationError(f"Row {line.row_number} has no proposal to reject.")
        line.matches.all().delete()
        line.customer = None
        line.status = BankLine.Status.UNMATCHED
        line.match_note = f"Proposal rejected by {by}."[:300]
        line.save()
    return line


def ignore_line(line: BankLine, *, by, reason: str) -> BankLine:
    """Money that is not a customer paying an invoice (a refund, interest): set aside with
    a reason, so the statement has nothing left unexplained. Publishes bank_line.ignored."""
    _ensure_finance(by, "ignore bank lines")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why this line is ignored.")
    with transaction.atomic():
        line = _lock_line(line)
        if not line.is_open:
            raise ValidationError(f"Row {line.row_number} is {line.get_status_display().lower()}.")
        line.matches.all().delete()
        line.status = BankLine.Status.IGNORED
        line.ignore_reason = reason[:2000]
        line.resolved_by = by
        line.resolved_at = timezone.now()
        line.save()
        publish("bank_line.ignored", subject=line, actor=by, reason=reason)
    return line
