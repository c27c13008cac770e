"""Invoicing services: the only way invoices, credit notes and payments change.

Every write follows the house rhythm. The order is the aggregate root: lock the order row
first (orders.services.lock_order), then the invoice rows, always in that order; check the
role (finance; managers pass every check; `by=None` means an automation acted), the hold
and the business rules; change; save; record on the order's timeline; publish an outbox
event. After commit the automation reacts (emails, dunning, Xero).

The order's billing transitions follow in the same transaction, by automation, through
orders.services.transition_order: mark_invoiced once the order is delivered and approved
invoices less credit notes cover its total, mark_paid once every issued invoice is settled,
and reopen_billing when a credit note leaves an invoiced order short.

Amounts: deposits and milestones are given net of tax (as B2B prices are); credit notes and
payments are gross, the money that changes hands. Tax is per line, rounded half up.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from invoicing.models import (
    CustomerCredit,
    Invoice,
    InvoiceLine,
    Payment,
    Receipt,
    TimeEntry,
)
from oms import money
from oms.accounts.roles import Role, has_role
from oms.numbering.models import allocate_number
from oms.outbox.publish import publish
from orders.models import Order, TimelineEvent
from orders.services import (
    OrderChanged,
    ensure_not_on_hold,
    lock_order,
    record,
    transition_order,
)

AUTOMATION = "invoicing"
ZERO = money.ZERO
CENT = money.CENT
HUNDRED = money.HUNDRED

# Order states in which each kind of invoice may be drafted and approved.
STAGED_STATES = tuple(Order.STAGED_BILLING_STATES)
FINAL_DRAFT_STATES = (Order.Status.DELIVERED,)
FINAL_APPROVE_STATES = (Order.Status.DELIVERED, Order.Status.INVOICED)


# --- locks, roles and refusals -------------------------------------------------------


def _lock(invoice: Invoice) -> tuple[Order, Invoice]:
    """Lock the order row, then the invoice row. A caller holding a copy of the invoice
    in another state than the stored one raises OrderChanged: someone acted first."""
    order = lock_order(invoice.order_id)
    locked = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
    if invoice.status != locked.status:
        raise OrderChanged(order)
    return order, locked


def _ensure_finance(by, action: str) -> None:
    if by is not None and not has_role(by, Role.FINANCE):
        raise PermissionDenied(f"Only finance may {action}.")


def _ensure_not_held(order: Order, doing: str) -> None:
    ensure_not_on_hold(order, doing)


def _reason(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(f"A reason is required to {what}.")
    return text


def _positive_money(value, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(f"The {what} must be an amount of money.") from None
    if not amount.is_finite():
        raise ValidationError(f"The {what} must be an amount of money.")
    amount = money.to_money(amount)
    if amount <= ZERO:
        raise ValidationError(f"The {what} must be more than zero.")
    return amount


def _state_label(order: Order) -> str:
    return Order.Status(order.status).label.lower()


def _record(order: Order, invoice: Invoice, *, by, automation: str, message: str, **details):
    kind = TimelineEvent.Kind.CHANGE if by is not None else TimelineEvent.Kind.SYSTEM
    return record(
        order,
        kind=kind,
        by=by,
        automation=automation or AUTOMATION,
        message=message,
        invoice_id=invoice.pk,
        invoice=str(invoice),
        **details,
    )


# --- arithmetic ------------------------------------------------------------------------


@dataclass
class _Amounts:
    net: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def _by_rate(lines) -> dict[Decimal, _Amounts]:
    groups: dict[Decimal, _Amounts] = defaultdict(_Amounts)
    for line in lines:
        group = groups[Decimal(line.tax_rate)]
        group.net += line.net_amount
        group.tax += line.tax_amount
    return dict(groups)


def _allocate(total: Decimal, weights: dict[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """Split `total` across keys in proportion to `weights`, to the cent, summing exactly
    (largest remainder)."""
    keys = [key for key, weight in weights.items() if weight > 0]
    if not keys:
        return {}
    whole = sum((weights[key] for key in keys), ZERO)
    cents = int((total / CENT).to_integral_value())
    raw = {key: Decimal(cents) * weights[key] / whole for key in keys}
    floors = {key: int(raw[key].to_integral_value(rounding=ROUND_FLOOR)) for key in keys}
    short = cents - sum(floors.values())
    for key in sorted(keys, key=lambda k: (raw[k] - floors[k], k), reverse=True)[:short]:
        floors[key] += 1
    return {key: Decimal(floors[key]) * CENT for key in keys if floors[key]}


def _split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net and tax that add up to `gross` exactly. Prefer a net whose per-line tax, rounded
    half up, lands on the gross (so an accounting system computing tax from the net
    agrees); otherwise take the tax out of the gross, as a tax-inclusive line does."""
    base = money.to_money(gross * HUNDRED / (HUNDRED + rate))
    for step in (0, -1, 1, -2, 2):
        net = base + step * CENT
        if net + money.line_tax(net, rate) == gross:
            return net, money.line_tax(net, rate)
    tax = money.to_money(gross * rate / (HUNDRED + rate))
    return gross - tax, tax


def _recompute_totals(invoice: Invoice) -> None:
    lines = list(invoice.lines.all())
    invoice.net_total = sum((line.net_amount for line in lines), ZERO)
    invoice.tax_total = sum((line.tax_amount for line in lines), ZERO)
    invoice.gross_total = invoice.net_total + invoice.tax_total


def _add_line(invoice: Invoice, position: int, **fields) -> InvoiceLine:
    """A line priced from quantity, price, discount and rate, unless the amounts are given
    (deductions and credits carry the exact amounts of the invoice they refer to)."""
    net = fields.pop("net_amount", None)
    tax = fields.pop("tax_amount", None)
    line = InvoiceLine(invoice=invoice, position=position, **fields)
    if net is None:
        line.compute_amounts()
    else:
        line.net_amount, line.tax_amount = net, tax
    line.save()
    return line


def _clean_line(data: dict) -> dict:
    description = str(data.get("description") or "").strip()
    if not description:
        raise ValidationError("Every invoice line needs a description.")
    try:
        quantity = Decimal(str(data.get("quantity", "1")))
        unit_price = money.to_money(Decimal(str(data["unit_price"])))
        discount = Decimal(str(data.get("discount_percent") or "0"))
        rate = Decimal(str(data.get("tax_rate", "20")))
    except (InvalidOperation, KeyError, TypeError, ValueError):
        raise ValidationError(f"The line “{description}” has an invalid number.") from None
    if quantity == 0:
        raise ValidationError(f"The line “{description}” needs a quantity.")
    if not (0 <= discount <= 100) or not (0 <= rate <= 100):
        raise ValidationError(f"The line “{description}” has an impossible discount or rate.")
    return {
        "description": description[:500],
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_percent": discount,
        "tax_rate": rate,
        "order_line": data.get("order_line"),
    }


# --- what an order has been billed ---------------------------------------------------


def _counted(order: Order) -> tuple[list[Invoice], list[Invoice]]:
    """Issued invoices and credit notes that count towards what the order has been billed.
    A void invoice and the credit notes against it cancel out exactly, so both are left out."""
    issued = list(
        Invoice.objects.filter(order=order)
        .exclude(status=Invoice.Status.DRAFT)
        .select_related("credited_invoice")
        .prefetch_related("lines")
        .order_by("approved_at", "id")
    )
    invoices = [i for i in issued if not i.is_credit_note and i.status != Invoice.Status.VOID]
    credits = [
        i for i in issued if i.is_credit_note and i.credited_invoice.status != Invoice.Status.VOID
    ]
    return invoices, credits


def _time_gross(invoice: Invoice) -> Decimal:
    """What an invoice charges for time entries, gross: billed on top of the order total."""
    return sum((line.gross_amount for line in invoice.lines.all() if line.bills_time), ZERO)


def billed_gross(order: Order) -> Decimal:
    """Approved invoices less credit notes, gross, counting only the order's own lines
    (time billed on top of them is not part of the order total)."""
    invoices, credits = _counted(order)
    return sum((i.gross_total - _time_gross(i) for i in invoices), ZERO) - sum(
        (c.gross_total for c in credits), ZERO
    )


def _all_settled(order: Order) -> bool:
    return not (
        Invoice.objects.filter(order=order, status__in=Invoice.OPEN_STATES)
        .exclude(kind=Invoice.Kind.CREDIT_NOTE)
        .exists()
    )


def _sync_order_billing(order: Order) -> Order:
    """Under the order lock: move the order along its billing states when its invoices
    and payments say so. The automation acts (by=None), so no role check applies."""
    covered = billed_gross(order) >= order.gross_total
    if order.status == Order.Status.DELIVERED and covered:
        order = transition_order(
            order,
            "mark_invoiced",
            by=None,
            automation=AUTOMATION,
            reason="Approved invoices cover the order total.",
        )
    elif order.status == Order.Status.INVOICED and not covered:
        order = transition_order(
            order,
            "reopen_billing",
            by=None,
            automation=AUTOMATION,
            reason="A credit note left the order no longer fully invoiced.",
        )
    if order.status == Order.Status.INVOICED and _all_settled(order):
        order = transition_order(
            order,
            "mark_paid",
            by=None,
            automation=AUTOMATION,
            reason="Every invoice is settled.",
        )
    return order


def _settle_status(invoice: Invoice) -> None:
    """Bring an issued invoice's state in line with its money: paid once nothing is
    outstanding (payments and credits, as Xero does), part paid once some money came in."""
    if invoice.is_credit_note or invoice.status not in Invoice.OPEN_STATES:
        return
    if invoice.outstanding <= ZERO:
        invoice.mark_paid()
    elif invoice.amount_paid > ZERO and invoice.status != Invoice.Status.PART_PAID:
        invoice.mark_part_paid()


def _final_exists(order: Order) -> bool:
    return (
        Invoice.objects.filter(order=order, kind=Invoice.Kind.FINAL)
        .exclude(status=Invoice.Status.VOID)
        .exists()
    )


def _refresh_deductions(invoice: Invoice, order: Order) -> None:
    """Net off, on a final invoice, everything the order has been billed before: one line
    per earlier invoice and tax rate, carrying its exact amounts less credits against it,
    so the final plus everything before equals the order total to the cent."""
    for line in invoice.lines.filter(deducted_invoice__isnull=False):
        line.delete()
    invoices, credits = _counted(order)
    credited: dict[int, list[Invoice]] = defaultdict(list)
    for credit in credits:
        credited[credit.credited_invoice_id].append(credit)
    position = 1000
    for earlier in invoices:
        if earlier.pk == invoice.pk:
            continue
        # Time billed earlier was extra to the order total, so it is not netted off.
        groups = _by_rate(line for line in earlier.lines.all() if not line.bills_time)
        for credit in credited[earlier.pk]:
            for rate, amounts in _by_rate(credit.lines.all()).items():
                groups.setdefault(rate, _Amounts())
                groups[rate].net -= amounts.net
                groups[rate].tax -= amounts.tax
        for rate, amounts in sorted(groups.items()):
            if amounts.net == ZERO and amounts.tax == ZERO:
                continue
            position += 1
            _add_line(
                invoice,
                position,
                description=f"Less {earlier.get_kind_display().lower()} invoice {earlier.number}",
                quantity=Decimal("1"),
                unit_price=-amounts.net,
                tax_rate=rate,
                net_amount=-amounts.net,
                tax_amount=-amounts.tax,
                deducted_invoice=earlier,
            )


def _new_invoice(order: Order, kind: str, **fields) -> Invoice:
    return Invoice.objects.create(
        order=order, customer=order.customer, kind=kind, currency=order.currency, **fields
    )


def _issue(invoice: Invoice, *, by, today: Date) -> None:
    """Number the invoice (gapless, inside this transaction) and move it to approved."""
    series = "CN" if invoice.is_credit_note else "INV"
    number = f"{series}-{today.year}-{allocate_number(series, today.year):05d}"
    if invoice.is_credit_note:
        due = today
    else:
        due = today + timedelta(days=invoice.customer.payment_terms_days)
    invoice.approve(number=number, issue_date=today, due_date=due, by=by)


# --- drafting --------------------------------------------------------------------------


def draft_invoice_for_order(order: Order, *, by=None, automation: str = "") -> Invoice:
    """The final invoice for a delivered order: every order line, less what deposits and
    milestones already billed. Returns the existing draft final instead of making a
    second. Publishes invoice.drafted; finance reviews and approves it. A final with
    nothing left to bill is approved at once (invoice.approved)."""
    _ensure_finance(by, "draft invoices")
    with transaction.atomic():
        order = lock_order(order)
        _ensure_not_held(order, "be invoiced")
        existing = (
            Invoice.objects.filter(
                order=order, kind=Invoice.Kind.FINAL, status=Invoice.Status.DRAFT
            )
            .order_by("id")
            .first()
        )
        if existing is not None:
            return existing
        if order.status not in FINAL_DRAFT_STATES:
            raise ValidationError(
                f"Order {order.number} is {_state_label(order)}; the final invoice is "
                "drafted once the order is delivered."
            )
        invoice = _new_invoice(order, Invoice.Kind.FINAL)
        for position, line in enumerate(order.lines.all(), start=1):
            _add_line(
                invoice,
                position,
                order_line=line,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
            )
        _bill_time_entries(invoice, order)
        _refresh_deductions(invoice, order)
        _recompute_totals(invoice)
        if invoice.gross_total < ZERO:
            raise ValidationError(
                f"Order {order.number} has been billed more than its total; "
                "credit the excess before drafting the final invoice."
            )
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation=automation,
            message=f"Final invoice drafted for {invoice.currency} {invoice.gross_total}.",
            gross=str(invoice.gross_total),
        )
        publish("invoice.drafted", subject=invoice, actor=by, invoice_kind=invoice.kind)
        if invoice.gross_total == ZERO:
            # Deposits and milestones already billed everything: the final is a nil-balance
            # statement, issued at once so the order moves on to invoiced (and paid).
            _approve(order, invoice, by=by)
        _sync_order_billing(order)
    return invoice


def _draft_staged(
    order: Order,
    *,
    by,
    kind: str,
    description: str,
    net: Decimal | None = None,
    percent: Decimal | None = None,
) -> Invoice:
    """A deposit or milestone for a net amount (or a percentage of the order's net total),
    spread over the order's tax rates by their share of it."""
    with transaction.atomic():
        order = lock_order(order)
        _ensure_not_held(order, "be invoiced")
        if order.status not in STAGED_STATES:
            raise ValidationError(
                f"Order {order.number} is {_state_label(order)}; deposits and milestones "
                "are billed while an order is confirmed, in progress or delivered."
            )
        if _final_exists(order):
            raise ValidationError(
                f"Order {order.number} already has a final invoice; bill the rest on it."
            )
        groups = _by_rate(order.lines.all())
        order_net = sum((g.net for g in groups.values()), ZERO)
        if percent is not None:
            net = money.to_money(order_net * percent / HUNDRED)
        if net is None or net <= ZERO:
            raise ValidationError(f"Order {order.number} has nothing to bill yet.")
        if net > order_net:
            raise ValidationError(
                f"{order.currency} {net} is more than the order's net total of "
                f"{order.currency} {order_net}."
            )
        invoice = _new_invoice(order, kind)
        shares = _allocate(net, {rate: g.net for rate, g in groups.items()})
        for position, (rate, share) in enumerate(sorted(shares.items()), start=1):
            _add_line(
                invoice,
                position,
                description=description,
                quantity=Decimal("1"),
                unit_price=share,
                tax_rate=rate,
            )
        _recompute_totals(invoice)
        pending = sum(
            (
                i.gross_total - _time_gross(i)
                for i in Invoice.objects.filter(order=order, status=Invoice.Status.DRAFT)
                .exclude(pk=invoice.pk)
                .exclude(kind=Invoice.Kind.CREDIT_NOTE)
                .prefetch_related("lines")
            ),
            ZERO,
        )
        if billed_gross(order) + pending + invoice.gross_total > order.gross_total:
            raise ValidationError(
                f"Order {order.number} would be billed more than its total of "
                f"{order.currency} {order.gross_total}."
            )
        _bill_time_entries(invoice, order)
        _recompute_totals(invoice)
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"{invoice.get_kind_display()} invoice drafted: {description}.",
            gross=str(invoice.gross_total),
        )
        publish("invoice.drafted", subject=invoice, actor=by, invoice_kind=invoice.kind)
    return invoice


def create_deposit_invoice(
    order: Order, *, by, percent: Decimal | None = None, amount: Decimal | None = None
) -> Invoice:
    """A draft deposit invoice for `percent` of the order's net total or a net `amount`,
    taxed at the order's rates. Allowed while the order is confirmed, in progress or
    delivered, and before the final invoice. Publishes invoice.drafted."""
    _ensure_finance(by, "raise deposit invoices")
    if (percent is None) == (amount is None):
        raise ValidationError("Give the deposit as a percentage or as an amount, not both.")
    if percent is not None:
        percent = _positive_money(percent, "deposit percentage")
        if percent > HUNDRED:
            raise ValidationError("A deposit cannot be more than 100% of the order.")
        label = f"Deposit {percent.normalize():f}% for order {order.number}"
        return _draft_staged(
            order, by=by, kind=Invoice.Kind.DEPOSIT, description=label, percent=percent
        )
    net = _positive_money(amount, "deposit amount")
    label = f"Deposit for order {order.number}"
    return _draft_staged(order, by=by, kind=Invoice.Kind.DEPOSIT, description=label, net=net)


def create_milestone_invoice(order: Order, *, by, description: str, amount: Decimal) -> Invoice:
    """A draft milestone invoice for a net `amount` (taxed at the order's rates), e.g.
    "Stage 1: design signed off". Same states and limits as a deposit."""
    _ensure_finance(by, "raise milestone invoices")
    description = (description or "").strip()
    if not description:
        raise ValidationError("A milestone invoice needs a description.")
    net = _positive_money(amount, "milestone amount")
    return _draft_staged(
        order, by=by, kind=Invoice.Kind.MILESTONE, description=description, net=net
    )


def update_draft_invoice_lines(invoice: Invoice, lines: list[dict], *, by) -> Invoice:
    """Replace a draft's lines (each dict: description, quantity, unit_price, optional
    discount_percent, tax_rate). A final invoice keeps its deductions of earlier invoices,
    refreshed. Publishes invoice.updated."""
    _ensure_finance(by, "edit invoices")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_not_held(order, "be invoiced")
        if invoice.status != Invoice.Status.DRAFT:
            raise ValidationError(f"{invoice} is issued; correct it with a credit note.")
        if invoice.is_credit_note:
            raise ValidationError("Credit notes are not edited.")
        cleaned = [_clean_line(data) for data in lines]
        if not cleaned:
            raise ValidationError("An invoice needs at least one line.")
        # Time lines stay (each is tied to its entry); the rest are replaced.
        for line in invoice.lines.filter(bills_time=False):
            line.delete()
        for position, data in enumerate(cleaned, start=1):
            _add_line(invoice, position, **data)
        if invoice.kind == Invoice.Kind.FINAL:
            _refresh_deductions(invoice, order)
        _recompute_totals(invoice)
        if invoice.gross_total < ZERO:
            raise ValidationError("An invoice cannot total less than zero; raise a credit note.")
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"Draft invoice lines changed; now {invoice.currency} {invoice.gross_total}.",
            gross=str(invoice.gross_total),
        )
        publish("invoice.updated", subject=invoice, actor=by)
    return invoice


def _edit_draft(invoice: Invoice, *, by, change, describe) -> Invoice:
    """Under the order and invoice locks: apply `change` to a draft's lines, refresh the
    final's deductions and the totals, and put the edit on the timeline."""
    _ensure_finance(by, "edit invoices")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_not_held(order, "be invoiced")
        if invoice.status != Invoice.Status.DRAFT:
            raise ValidationError(f"{invoice} is issued; correct it with a credit note.")
        if invoice.is_credit_note:
            raise ValidationError("Credit notes are not edited.")
        what = change(invoice)
        if not invoice.lines.exists():
            raise ValidationError("An invoice needs at least one line.")
        if invoice.kind == Invoice.Kind.FINAL:
            _refresh_deductions(invoice, order)
        _recompute_totals(invoice)
        if invoice.gross_total < ZERO:
            raise ValidationError("An invoice cannot total less than zero; raise a credit note.")
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"{describe(what)}; draft now {invoice.currency} {invoice.gross_total}.",
            gross=str(invoice.gross_total),
        )
        publish("invoice.updated", subject=invoice, actor=by)
    return invoice


def _editable_line(invoice: Invoice, line_id: int) -> InvoiceLine:
    line = invoice.lines.filter(pk=line_id).first()
    if line is None:
        raise ValidationError("That line is not on this invoice.")
    if line.deducted_invoice_id or line.bills_time:
        raise ValidationError(
            "Deductions of earlier invoices and billed time are kept as they are."
        )
    return line


def update_draft_invoice_line(invoice: Invoice, line_id: int, data: dict, *, by) -> Invoice:
    """Change one line of a draft (description, quantity, price, discount, rate).
    Publishes invoice.updated."""
    cleaned = _clean_line(data)

    def change(invoice: Invoice) -> tuple[str, str]:
        line = _editable_line(invoice, line_id)
        before = f"{line.description} {line.quantity.normalize():f} at {line.unit_price}"
        for field in ("description", "quantity", "unit_price", "discount_percent", "tax_rate"):
            setattr(line, field, cleaned[field])
        line.compute_amounts()
        line.save()
        return before, f"{line.description} {line.quantity.normalize():f} at {line.unit_price}"

    return _edit_draft(
        invoice,
        by=by,
        change=change,
        describe=lambda what: f"Draft line “{what[0]}” changed to “{what[1]}”",
    )


def add_draft_invoice_line(invoice: Invoice, data: dict, *, by) -> Invoice:
    """Add a line to a draft, after its other charges. Publishes invoice.updated."""
    cleaned = _clean_line(data)

    def change(invoice: Invoice) -> str:
        last = (
            invoice.lines.filter(deducted_invoice__isnull=True, bills_time=False)
            .order_by("-position")
            .first()
        )
        _add_line(invoice, (last.position if last else 0) + 1, **cleaned)
        return cleaned["description"]

    return _edit_draft(
        invoice, by=by, change=change, describe=lambda what: f"Draft line “{what}” added"
    )


def remove_draft_invoice_line(invoice: Invoice, line_id: int, *, by) -> Invoice:
    """Take a line off a draft (it is a draft: nothing issued is lost). Publishes
    invoice.updated."""

    def change(invoice: Invoice) -> str:
        line = _editable_line(invoice, line_id)
        description = line.description
        line.delete()
        return description

    return _edit_draft(
        invoice, by=by, change=change, describe=lambda what: f"Draft line “{what}” removed"
    )


def discard_draft_invoice(invoice: Invoice, *, by, reason: str) -> Invoice:
    """Set aside a draft raised in error. It was never numbered, so no number is lost; the
    row stays (void, with the reason) because nothing is deleted. Publishes
    invoice.discarded."""
    _ensure_finance(by, "discard draft invoices")
    reason = _reason(reason, "discard a draft invoice")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        if invoice.status != Invoice.Status.DRAFT:
            raise ValidationError(
                f"{invoice} is {invoice.get_status_display().lower()}; only drafts are "
                "discarded. Void or credit an issued invoice instead."
            )
        invoice.discard(reason=reason)
        invoice.save()
        released = _release_time_entries(invoice)
        # Released time goes on another open draft of the order if there is one.
        other = _open_draft(order) if released else None
        if other is not None:
            other = Invoice.objects.select_for_update(no_key=True).get(pk=other.pk)
            _bill_time_entries(other, order)
            _recompute_totals(other)
            other.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"{invoice} discarded: {reason}",
            released_time_entries=released,
        )
        publish("invoice.discarded", subject=invoice, actor=by, reason=reason)
    return invoice


# --- issuing ---------------------------------------------------------------------------


def approve_invoice(invoice: Invoice, *, by) -> Invoice:
    """Issue a draft: the next gapless number (INV-YYYY-NNNNN), today's date, due after the
    customer's payment terms. From here it is immutable. Publishes invoice.approved; the
    order moves to invoiced (and paid) when this completes its billing."""
    _ensure_finance(by, "approve invoices")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_not_held(order, "have invoices approved")
        _approve(order, invoice, by=by)
        _sync_order_billing(order)
    return invoice


def _approve(order: Order, invoice: Invoice, *, by) -> None:
    """Check and issue a draft under the order and invoice locks."""
    if invoice.status != Invoice.Status.DRAFT:
        raise ValidationError(f"{invoice} is already {invoice.get_status_display().lower()}.")
    if invoice.kind == Invoice.Kind.FINAL:
        if order.status not in FINAL_APPROVE_STATES:
            raise ValidationError(
                f"Order {order.number} is {_state_label(order)}; the final invoice is "
                "approved once the order is delivered."
            )
        _refresh_deductions(invoice, order)
    elif order.status not in STAGED_STATES:
        raise ValidationError(
            f"Order {order.number} is {_state_label(order)}; deposits and milestones are "
            "approved while an order is confirmed, in progress or delivered."
        )
    elif (
        Invoice.objects.filter(order=order, kind=Invoice.Kind.FINAL)
        .exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
        .exists()
    ):
        raise ValidationError(
            f"Order {order.number} already has an approved final invoice; "
            "this charge belongs on a final invoice."
        )
    _recompute_totals(invoice)
    if not invoice.lines.exists():
        raise ValidationError(f"{invoice} has no lines.")
    if invoice.gross_total < ZERO:
        raise ValidationError(f"{invoice} totals less than zero.")
    if invoice.kind != Invoice.Kind.FINAL and (
        billed_gross(order) + invoice.gross_total - _time_gross(invoice) > order.gross_total
    ):
        raise ValidationError(
            f"Approving {invoice} would bill order {order.number} more than its total."
        )
    today = timezone.localdate()
    _issue(invoice, by=by, today=today)
    _settle_status(invoice)  # a zero-value final is settled the moment it is issued
    invoice.save()
    _record(
        order,
        invoice,
        by=by,
        automation="",
        message=f"Invoice {invoice.number} approved: {invoice.currency} {invoice.gross_total}"
        f", due {invoice.due_date:%d %b %Y}.",
        number=invoice.number,
        gross=str(invoice.gross_total),
    )
    publish(
        "invoice.approved",
        subject=invoice,
        actor=by,
        number=invoice.number,
        invoice_kind=invoice.kind,
        gross=str(invoice.gross_total),
    )


def send_invoice(invoice: Invoice, *, by) -> Invoice:
    """Mark an approved invoice (or credit note) as sent; the email itself goes out from
    the invoice.sent handler after commit. Sending again is allowed (a re-send)."""
    _ensure_finance(by, "send invoices")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_not_held(order, "have invoices sent")
        if invoice.status not in (Invoice.Status.APPROVED, Invoice.Status.SENT):
            raise ValidationError(
                f"{invoice} is {invoice.get_status_display().lower()}; only approved "
                "invoices are sent."
            )
        invoice.send()
        invoice.save()
        _record(order, invoice, by=by, automation="", message=f"{invoice} sent to the customer.")
        publish("invoice.sent", subject=invoice, actor=by, number=invoice.number)
    return invoice


# --- money in and corrections ------------------------------------------------------------


def record_payment(
    invoice: Invoice,
    *,
    by,
    amount: Decimal,
    date: Date | None = None,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
    external_id: str = "",
    receipt: Receipt | None = None,
) -> Payment:
    """Money received against an issued invoice; allowed while the order is on hold.
    The invoice becomes part paid or paid, and the order paid once everything is settled.
    A payment already recorded under `external_id` (from Xero) is returned, not repeated.
    Publishes payment.recorded."""
    _ensure_finance(by, "record payments")
    if method not in Payment.Method.values:
        raise ValidationError(f"“{method}” is not a payment method.")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        if external_id:
            earlier = Payment.objects.filter(invoice=invoice, external_id=external_id).first()
            if earlier is not None:
                return earlier
        amount = _positive_money(amount, "payment amount")
        if invoice.is_credit_note:
            raise ValidationError(f"{invoice} is a credit note; payments go against invoices.")
        if invoice.status == Invoice.Status.DRAFT:
            raise ValidationError(f"{invoice} is a draft; approve it before taking payment.")
        if invoice.status == Invoice.Status.VOID:
            raise ValidationError(f"{invoice} is void; it takes no payments.")
        outstanding = invoice.outstanding
        if amount > outstanding:
            raise ValidationError(
                f"{invoice.currency} {amount} is more than the {invoice.currency} "
                f"{outstanding} outstanding on {invoice}."
            )
        payment = Payment.objects.create(
            invoice=invoice,
            amount=amount,
            date=date or timezone.localdate(),
            method=method,
            reference=reference[:128],
            external_id=external_id[:64],
            recorded_by=by,
            receipt=receipt,
        )
        invoice.amount_paid += amount
        _settle_status(invoice)
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"Payment of {invoice.currency} {amount} recorded against {invoice}.",
            payment_id=payment.pk,
            amount=str(amount),
        )
        publish(
            "payment.recorded",
            subject=payment,
            actor=by,
            invoice_id=invoice.pk,
            amount=str(amount),
        )
        _sync_order_billing(order)
    return payment


def _credit(invoice: Invoice, *, by, reason: str, amount: Decimal, today: Date) -> Invoice:
    """An approved credit note against `invoice` for gross `amount`, spread over the
    invoice's tax rates; crediting everything left takes each rate's exact remainder."""
    remaining = _by_rate(invoice.lines.all())
    for earlier in invoice.credit_notes.exclude(status=Invoice.Status.DRAFT):
        for rate, amounts in _by_rate(earlier.lines.all()).items():
            remaining.setdefault(rate, _Amounts())
            remaining[rate].net -= amounts.net
            remaining[rate].tax -= amounts.tax
    note = Invoice.objects.create(
        order_id=invoice.order_id,
        customer_id=invoice.customer_id,
        kind=Invoice.Kind.CREDIT_NOTE,
        credited_invoice=invoice,
        currency=invoice.currency,
        reason=reason,
    )
    if amount == invoice.gross_total - invoice.amount_credited:
        parts = [(rate, g.net, g.tax) for rate, g in remaining.items() if g.net or g.tax]
    else:
        shares = _allocate(amount, {rate: g.gross for rate, g in remaining.items()})
        parts = [(rate, *_split_gross(share, rate)) for rate, share in shares.items()]
    for position, (rate, net, tax) in enumerate(sorted(parts), start=1):
        _add_line(
            note,
            position,
            description=f"Credit against {invoice.number}: {reason}"[:500],
            quantity=Decimal("1"),
            unit_price=net,
            tax_rate=rate,
            net_amount=net,
            tax_amount=tax,
        )
    _recompute_totals(note)
    _issue(note, by=by, today=today)
    note.save()
    invoice.amount_credited += note.gross_total
    return note


def create_credit_note(
    invoice: Invoice, *, by, reason: str, amount: Decimal | None = None
) -> Invoice:
    """Correct an issued invoice, whole (amount=None) or in part (gross `amount`), never by
    more than is left uncredited. The credit note is approved at once (CN-YYYY-NNNNN).
    Publishes invoice.credited; an invoiced order short of its total returns to delivered."""
    _ensure_finance(by, "raise credit notes")
    reason = _reason(reason, "raise a credit note")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_not_held(order, "have invoices credited")
        if invoice.is_credit_note:
            raise ValidationError(f"{invoice} is itself a credit note.")
        if not invoice.is_issued:
            raise ValidationError(
                f"{invoice} is {invoice.get_status_display().lower()}; only issued invoices "
                "are credited."
            )
        uncredited = invoice.gross_total - invoice.amount_credited
        amount = uncredited if amount is None else _positive_money(amount, "credit amount")
        if uncredited <= ZERO:
            raise ValidationError(f"{invoice} has already been credited in full.")
        if amount > uncredited:
            raise ValidationError(
                f"{invoice.currency} {amount} is more than the {invoice.currency} "
                f"{uncredited} left to credit on {invoice}."
            )
        note = _credit(invoice, by=by, reason=reason, amount=amount, today=timezone.localdate())
        _settle_status(invoice)
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"Credit note {note.number} for {note.currency} {note.gross_total} "
            f"against {invoice.number}: {reason}",
            credit_note_id=note.pk,
            credit_note=note.number,
            amount=str(note.gross_total),
        )
        publish(
            "invoice.credited",
            subject=note,
            actor=by,
            invoice_id=invoice.pk,
            number=note.number,
            amount=str(note.gross_total),
            reason=reason,
        )
        _sync_order_billing(order)
    return note


def void_invoice(invoice: Invoice, *, by, reason: str) -> Invoice:
    """Cancel an issued invoice nobody has paid: it keeps its number (and its PDF), and a
    credit note for the unpaid amount squares the books. Publishes invoice.voided."""
    _ensure_finance(by, "void invoices")
    reason = _reason(reason, "void an invoice")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_not_held(order, "have invoices voided")
        if invoice.is_credit_note:
            raise ValidationError(f"{invoice} is a credit note; it cannot be voided.")
        if invoice.status not in (Invoice.Status.APPROVED, Invoice.Status.SENT):
            raise ValidationError(
                f"{invoice} is {invoice.get_status_display().lower()}; only approved or sent "
                "invoices with no payments are voided. Raise a credit note instead."
            )
        uncredited = invoice.gross_total - invoice.amount_credited
        note = None
        if uncredited > ZERO:
            note = _credit(
                invoice,
                by=by,
                reason=f"Void: {reason}",
                amount=uncredited,
                today=timezone.localdate(),
            )
        invoice.void(reason=reason)
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"Invoice {invoice.number} voided: {reason}",
            credit_note=note.number if note else "",
        )
        publish(
            "invoice.voided",
            subject=invoice,
            actor=by,
            number=invoice.number,
            credit_note_id=note.pk if note else None,
            reason=reason,
        )
        _sync_order_billing(order)
    return invoice


# --- collections -----------------------------------------------------------------------


def _ensure_receivable(invoice: Invoice) -> None:
    if invoice.is_credit_note or not invoice.is_issued:
        raise ValidationError(f"{invoice} is not an issued invoice.")


def dispute_invoice(invoice: Invoice, *, by, reason: str) -> Invoice:
    """The customer disputes the invoice: reminders pause until it is resolved.
    Publishes invoice.disputed."""
    _ensure_finance(by, "dispute invoices")
    reason = _reason(reason, "dispute an invoice")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_receivable(invoice)
        if invoice.disputed:
            raise ValidationError(f"{invoice} is already disputed.")
        invoice.disputed = True
        invoice.dispute_reason = reason
        invoice.disputed_at = timezone.now()
        invoice.save()
        _record(order, invoice, by=by, automation="", message=f"{invoice} disputed: {reason}")
        publish("invoice.disputed", subject=invoice, actor=by, reason=reason)
    return invoice


def resolve_dispute(invoice: Invoice, *, by, resolution: str) -> Invoice:
    """The dispute is settled (often with a credit note first); reminders may resume.
    Publishes invoice.dispute_resolved."""
    _ensure_finance(by, "resolve disputes")
    resolution = _reason(resolution, "resolve a dispute")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        if not invoice.disputed:
            raise ValidationError(f"{invoice} is not disputed.")
        invoice.disputed = False
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"Dispute on {invoice} resolved: {resolution}",
            dispute_reason=invoice.dispute_reason,
        )
        publish("invoice.dispute_resolved", subject=invoice, actor=by, resolution=resolution)
    return invoice


def set_promise_to_pay(invoice: Invoice, *, by, date: Date) -> Invoice:
    """The customer promised to pay by `date`; reminders wait for it.
    Publishes invoice.promise_recorded."""
    _ensure_finance(by, "record promises to pay")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        _ensure_receivable(invoice)
        if invoice.outstanding <= ZERO:
            raise ValidationError(f"{invoice} has nothing outstanding.")
        if date < timezone.localdate():
            raise ValidationError("A promise to pay needs a date from today onwards.")
        invoice.promise_to_pay_date = date
        invoice.save()
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"Customer promised to pay {invoice} by {date:%d %b %Y}.",
            promise_date=str(date),
        )
        publish("invoice.promise_recorded", subject=invoice, actor=by, date=str(date))
    return invoice


def record_split_payment(
    customer,
    *,
    by,
    allocations: dict[int, Decimal],
    date: Date | None = None,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
) -> list[Payment]:
    """One receipt from a customer spread across several of their open invoices
    ({invoice id: gross amount}). All or nothing: an amount over an invoice's outstanding,
    another customer's invoice or a second currency records nothing. Orders are locked in
    id order (through record_payment), so two receipts never deadlock."""
    _ensure_finance(by, "record payments")
    if not allocations:
        raise ValidationError("Allocate the payment to at least one invoice.")
    invoices = list(Invoice.objects.filter(pk__in=list(allocations)).order_by("order_id", "id"))
    if len(invoices) != len(allocations):
        raise ValidationError("One of the invoices does not exist.")
    if any(invoice.customer_id != customer.pk for invoice in invoices):
        raise ValidationError(f"Every invoice must belong to {customer}.")
    if len({invoice.currency for invoice in invoices}) > 1:
        raise ValidationError("A payment is in one currency; these invoices are in several.")
    payments = []
    with transaction.atomic():
        for invoice in invoices:
            payments.append(
                record_payment(
                    invoice,
                    by=by,
                    amount=allocations[invoice.pk],
                    date=date,
                    method=method,
                    reference=reference,
                )
            )
    return payments


# --- time and materials --------------------------------------------------------------------

TIME_ENTRY_STATES = STAGED_STATES


def _ensure_operations_or_finance(by, action: str) -> None:
    if by is not None and not has_role(by, Role.OPERATIONS, Role.FINANCE):
        raise PermissionDenied(f"Only operations or finance may {action}.")


def _bill_time_entries(invoice: Invoice, order: Order) -> int:
    """Under the order lock: put every unbilled time entry of the order on `invoice`, one
    line each, and mark the entry with its line so it is billed exactly once."""
    entries = list(
        TimeEntry.objects.select_for_update().filter(order=order, invoice_line__isnull=True)
    )
    position = 500 + invoice.lines.filter(bills_time=True).count()
    for entry in entries:
        position += 1
        entry.invoice_line = _add_line(
            invoice,
            position,
            description=(
                f"{entry.description} ({entry.person}, {entry.hours.normalize():f} h "
                f"on {entry.date:%d %b %Y})"
            )[:500],
            quantity=entry.hours,
            unit_price=entry.rate,
            tax_rate=entry.tax_rate,
            bills_time=True,
        )
        entry.save(update_fields=["invoice_line"])
    return len(entries)


def _release_time_entries(invoice: Invoice) -> int:
    """A discarded draft gives its time entries back, to be billed on the next invoice."""
    entries = list(TimeEntry.objects.select_for_update().filter(invoice_line__invoice=invoice))
    for entry in entries:
        entry.invoice_line = None
        entry.save(update_fields=["invoice_line"])
    return len(entries)


def _open_draft(order: Order) -> Invoice | None:
    return (
        Invoice.objects.filter(order=order, status=Invoice.Status.DRAFT)
        .exclude(kind=Invoice.Kind.CREDIT_NOTE)
        .order_by("-id")
        .first()
    )


def record_time_entry(
    order: Order,
    *,
    by,
    person: str,
    date: Date,
    hours,
    rate,
    description: str,
    tax_rate=Decimal("20"),
) -> TimeEntry:
    """Hours worked on an order, charged at `rate` per hour on top of its lines. The entry
    goes on the order's open draft invoice if there is one, else on the next invoice
    drafted for the order. Publishes time_entry.recorded."""
    _ensure_operations_or_finance(by, "record time")
    person = (person or "").strip()
    description = (description or "").strip()
    if not person:
        raise ValidationError("Say who did the work.")
    if not description:
        raise ValidationError("Describe the work done.")
    hours = _positive_money(hours, "number of hours")
    try:
        rate = money.to_money(Decimal(str(rate)))
        tax_rate = Decimal(str(tax_rate))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError("The rate must be an amount of money.") from None
    if not rate.is_finite() or rate < ZERO:
        raise ValidationError("The rate cannot be less than zero.")
    if not (ZERO <= tax_rate <= HUNDRED):
        raise ValidationError("The tax rate must be between 0 and 100%.")
    if date is None or date > timezone.localdate():
        raise ValidationError("Time is recorded for today or earlier.")
    with transaction.atomic():
        order = lock_order(order)
        if order.status not in TIME_ENTRY_STATES:
            raise ValidationError(
                f"Order {order.number} is {_state_label(order)}; time is recorded while an "
                "order is confirmed, in progress or delivered."
            )
        if (
            Invoice.objects.filter(order=order, kind=Invoice.Kind.FINAL)
            .exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
            .exists()
        ):
            raise ValidationError(
                f"Order {order.number} already has its final invoice; bill further time "
                "on a new order."
            )
        entry = TimeEntry.objects.create(
            order=order,
            person=person[:200],
            date=date,
            hours=hours,
            rate=rate,
            tax_rate=tax_rate,
            description=description[:500],
            recorded_by=by,
        )
        draft = _open_draft(order)
        if draft is not None:
            draft = Invoice.objects.select_for_update(no_key=True).get(pk=draft.pk)
            _bill_time_entries(draft, order)
            _recompute_totals(draft)
            draft.save()
        record(
            order,
            kind=TimelineEvent.Kind.CHANGE if by is not None else TimelineEvent.Kind.SYSTEM,
            by=by,
            automation=AUTOMATION,
            message=f"{hours.normalize():f} h by {entry.person} recorded at "
            f"{order.currency} {rate}/h: {entry.description}"
            + (f" (on draft {draft})." if draft is not None else "."),
            time_entry_id=entry.pk,
            invoice_id=draft.pk if draft is not None else None,
        )
        publish(
            "time_entry.recorded",
            subject=entry,
            actor=by,
            hours=str(hours),
            rate=str(rate),
            invoice_id=draft.pk if draft is not None else None,
        )
    return entry


# --- receipts and customer credit --------------------------------------------------------


def _clean_allocations(allocations: dict) -> dict[int, Decimal]:
    cleaned = {}
    for invoice_id, value in (allocations or {}).items():
        if value in (None, "") or (isinstance(value, Decimal) and value == ZERO):
            continue
        cleaned[int(invoice_id)] = _positive_money(value, "amount for an invoice")
    return cleaned


def receive_payment(
    customer: Customer,
    *,
    by,
    amount,
    currency: str,
    allocations: dict[int, Decimal],
    date: Date | None = None,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
) -> Receipt:
    """One sum received from a customer: `allocations` ({invoice id: gross}) settle their
    open invoices and whatever exceeds them becomes customer credit, to apply later. All or
    nothing: a wrong currency, another customer's invoice or an allocation over what is
    outstanding records nothing. Publishes payment.recorded per invoice and
    customer_credit.received for the excess."""
    _ensure_finance(by, "record payments")
    amount = _positive_money(amount, "payment amount")
    currency = (currency or "").strip().upper()
    if not currency:
        raise ValidationError("Say which currency the payment is in.")
    if method not in Payment.Method.values or method == Payment.Method.CREDIT:
        raise ValidationError(f"“{method}” is not a way money is received.")
    cleaned = _clean_allocations(allocations)
    invoices = list(
        Invoice.objects.filter(pk__in=list(cleaned))
        .select_related("order")
        .order_by("order_id", "id")
    )
    if len(invoices) != len(cleaned):
        raise ValidationError("One of the invoices does not exist.")
    for invoice in invoices:
        if invoice.customer_id != customer.pk:
            raise ValidationError(f"{invoice} belongs to another customer, not {customer}.")
        if invoice.currency != currency:
            raise ValidationError(
                f"{invoice} is in {invoice.currency}; a {currency} payment cannot be "
                "recorded against it."
            )
    allocated = sum(cleaned.values(), ZERO)
    if allocated > amount:
        raise ValidationError(
            f"The invoices are given {currency} {allocated}, more than the "
            f"{currency} {amount} received."
        )
    with transaction.atomic():
        receipt = Receipt.objects.create(
            customer=customer,
            currency=currency,
            amount=amount,
            date=date or timezone.localdate(),
            method=method,
            reference=reference[:128],
            recorded_by=by,
        )
        for invoice in invoices:
            record_payment(
                invoice,
                by=by,
                amount=cleaned[invoice.pk],
                date=receipt.date,
                method=method,
                reference=reference,
                receipt=receipt,
            )
        excess = amount - allocated
        if excess > ZERO:
            credit = CustomerCredit.objects.create(
                customer=customer,
                currency=currency,
                amount=excess,
                kind=CustomerCredit.Kind.OVERPAYMENT,
                receipt=receipt,
                recorded_by=by,
            )
            balance = CustomerCredit.objects.balance(customer, currency)
            # The timeline belongs to orders: the credit is noted on the last order paid.
            if invoices:
                _record(
                    invoices[-1].order,
                    invoices[-1],
                    by=by,
                    automation="",
                    message=f"{currency} {excess} received beyond {customer}'s invoices kept "
                    f"as customer credit; credit now {currency} {balance}.",
                    receipt_id=receipt.pk,
                    credit=str(excess),
                )
            publish(
                "customer_credit.received",
                subject=credit,
                actor=by,
                customer_id=customer.pk,
                receipt_id=receipt.pk,
                amount=str(excess),
                currency=currency,
                balance=str(balance),
            )
    return receipt


def apply_customer_credit(invoice: Invoice, *, by, amount=None) -> Payment:
    """Settle an open invoice (in part or whole; amount=None takes as much as possible)
    from the customer's credit in the invoice's currency. The credit ledger gets a
    matching negative entry. Publishes payment.recorded and customer_credit.applied."""
    _ensure_finance(by, "apply customer credit")
    with transaction.atomic():
        order, invoice = _lock(invoice)
        # Serialise spending one customer's credit: two applications cannot both use it.
        customer = Customer.objects.select_for_update(no_key=True).get(pk=invoice.customer_id)
        _ensure_receivable(invoice)
        outstanding = invoice.outstanding
        if outstanding <= ZERO:
            raise ValidationError(f"{invoice} has nothing outstanding.")
        balance = CustomerCredit.objects.balance(customer, invoice.currency)
        if balance <= ZERO:
            raise ValidationError(f"{customer} holds no {invoice.currency} credit.")
        if amount in (None, ""):
            amount = min(balance, outstanding)
        amount = _positive_money(amount, "credit to apply")
        if amount > balance:
            raise ValidationError(
                f"{customer} holds only {invoice.currency} {balance} of credit, less than "
                f"{invoice.currency} {amount}."
            )
        if amount > outstanding:
            raise ValidationError(
                f"{invoice.currency} {amount} is more than the {invoice.currency} "
                f"{outstanding} outstanding on {invoice}."
            )
        payment = record_payment(
            invoice,
            by=by,
            amount=amount,
            method=Payment.Method.CREDIT,
            reference="Customer credit",
        )
        entry = CustomerCredit.objects.create(
            customer=customer,
            currency=invoice.currency,
            amount=-amount,
            kind=CustomerCredit.Kind.APPLIED,
            invoice=invoice,
            payment=payment,
            recorded_by=by,
        )
        left = balance - amount
        _record(
            order,
            invoice,
            by=by,
            automation="",
            message=f"Customer credit of {invoice.currency} {amount} applied to {invoice}; "
            f"{invoice.currency} {left} credit left.",
            payment_id=payment.pk,
            amount=str(amount),
        )
        publish(
            "customer_credit.applied",
            subject=entry,
            actor=by,
            customer_id=customer.pk,
            invoice_id=invoice.pk,
            amount=str(amount),
            currency=invoice.currency,
            balance=str(left),
        )
    return payment
