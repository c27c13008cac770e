"""Bank statement import: read the CSV, propose matches, record only what finance confirms."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from invoicing import services as invoicing
from invoicing.banking import services
from invoicing.banking.models import BankLine, BankStatement
from invoicing.models import CustomerCredit, Invoice, Payment, Receipt
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(order_at, finance):
    """issue(customer) → an approved 120.00 final invoice for that customer."""

    def make(customer=None):
        order = order_at("delivered", customer=customer or CustomerFactory())
        return invoicing.approve_invoice(
            invoicing.draft_invoice_for_order(order, by=finance), by=finance
        )

    return make


def _import(finance, text: str, *, name="statement.csv", currency="GBP"):
    return services.import_statement(
        by=finance, filename=name, content=text.encode(), currency=currency
    )


def _csv(*rows, header="Date,Amount,Reference,Payer"):
    return "\n".join([header, *rows]) + "\n"


def test_reference_names_the_invoice(issue, finance):
    invoice = issue()
    statement = _import(finance, _csv(f"2026-01-05,120.00,Payment {invoice.number},Acme"))
    line = statement.lines.get()
    assert line.status == BankLine.Status.PROPOSED
    assert line.customer == invoice.customer
    assert [(m.invoice, m.amount) for m in line.matches.all()] == [(invoice, Decimal("120.00"))]
    # Nothing is recorded before finance confirms.
    assert not Payment.objects.exists()


def test_order_number_in_reference_matches_its_invoice(issue, finance):
    invoice = issue()
    statement = _import(finance, _csv(f'05/01/2026,"£120.00",{invoice.order.number} thanks,'))
    assert statement.lines.get().matches.get().invoice == invoice


def test_exact_outstanding_amount_matches_one_invoice(issue, finance):
    issue()  # 120.00
    invoicing.record_payment(target := issue(), by=finance, amount=Decimal("20.00"))
    statement = _import(finance, _csv("2026-01-05,100.00,BACS TRANSFER,"))
    line = statement.lines.get()
    assert line.matches.get().invoice == target
    assert "Exactly the amount" in line.match_note


def test_several_invoices_of_one_customer_summing_to_the_amount(issue, finance):
    customer = CustomerFactory()
    first, second = issue(customer), issue(customer)
    issue()  # another customer's 120.00 does not confuse it
    statement = _import(finance, _csv("2026-01-05,240.00,Monthly settlement,"))
    line = statement.lines.get()
    assert line.status == BankLine.Status.PROPOSED
    assert {m.invoice for m in line.matches.all()} == {first, second}


def test_ambiguous_amount_stays_unmatched(issue, finance):
    issue(), issue()
    statement = _import(finance, _csv("2026-01-05,120.00,Transfer,"))
    line = statement.lines.get()
    assert line.status == BankLine.Status.UNMATCHED
    assert "2 open invoices" in line.match_note


def test_confirming_records_the_payment_and_keeps_an_overpayment_as_credit(issue, finance):
    invoice = issue()
    statement = _import(finance, _csv(f"2026-01-05,150.00,{invoice.number},"))
    line = services.confirm_line(statement.lines.get(), by=finance)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert line.status == BankLine.Status.CONFIRMED
    assert line.receipt.amount == Decimal("150.00")
    assert CustomerCredit.objects.balance(invoice.customer, "GBP") == Decimal("30.00")
    with pytest.raises(ValidationError, match="already recorded"):
        services.confirm_line(line, by=finance)
    assert Payment.objects.count() == 1


def test_the_same_file_twice_is_refused(issue, finance):
    invoice = issue()
    text = _csv(f"2026-01-05,120.00,{invoice.number},")
    services.confirm_line(_import(finance, text).lines.get(), by=finance)
    with pytest.raises(ValidationError, match="already imported"):
        _import(finance, text, name="again.csv")
    assert BankStatement.objects.count() == 1
    assert Payment.objects.count() == 1


def test_an_overlapping_statement_marks_lines_seen_before(issue, finance):
    invoice = issue()
    row = f"2026-01-05,120.00,{invoice.number},"
    services.confirm_line(_import(finance, _csv(row)).lines.get(), by=finance)
    later = _import(finance, _csv(row, "2026-01-06,9.99,Interest,"), name="later.csv")
    seen, new = later.lines.order_by("row_number")
    assert seen.status == BankLine.Status.DUPLICATE
    with pytest.raises(ValidationError, match="no match to confirm"):
        services.confirm_line(seen, by=finance)
    assert new.status == BankLine.Status.UNMATCHED
    assert Payment.objects.count() == 1


def test_two_identical_lines_in_one_file_are_both_kept(finance, issue):
    customer = CustomerFactory()
    issue(customer), issue(customer)
    statement = _import(finance, _csv("2026-01-05,120.00,Same,", "2026-01-05,120.00,Same,"))
    assert statement.lines.count() == 2
    assert not statement.lines.filter(status=BankLine.Status.DUPLICATE).exists()


def test_finance_changes_the_match_then_confirms(issue, finance):
    customer = CustomerFactory()
    first, second = issue(customer), issue(customer)
    statement = _import(finance, _csv("2026-01-05,200.00,Thanks,"))
    line = statement.lines.get()
    line = services.change_line(
        line, by=finance, invoice_numbers=f"{second.number}, {first.number}"
    )
    assert line.status == BankLine.Status.PROPOSED
    services.confirm_line(line, by=finance)
    first.refresh_from_db()
    second.refresh_from_db()
    # Oldest due first: the first is paid, the second gets the rest.
    assert first.status == Invoice.Status.PAID
    assert second.amount_paid == Decimal("80.00")


def test_change_to_credit_only_for_a_customer(finance):
    customer = CustomerFactory()
    line = _import(finance, _csv("2026-01-05,55.00,Prepayment,")).lines.get()
    line = services.change_line(line, by=finance, customer=customer)
    services.confirm_line(line, by=finance)
    assert CustomerCredit.objects.balance(customer, "GBP") == Decimal("55.00")


def test_change_refuses_unknown_or_mixed_invoices(issue, finance):
    first, second = issue(), issue()
    line = _import(finance, _csv("2026-01-05,50.00,X,")).lines.get()
    with pytest.raises(ValidationError, match="INV-1999-00001: no such open invoice"):
        services.change_line(line, by=finance, invoice_numbers="INV-1999-00001")
    with pytest.raises(ValidationError, match="one customer"):
        services.change_line(line, by=finance, invoice_numbers=f"{first.number} {second.number}")


def test_reject_returns_the_line_to_unmatched_and_ignore_needs_a_reason(issue, finance):
    invoice = issue()
    line = _import(finance, _csv(f"2026-01-05,120.00,{invoice.number},")).lines.get()
    line = services.reject_line(line, by=finance)
    assert line.status == BankLine.Status.UNMATCHED
    assert not line.matches.exists()
    with pytest.raises(ValidationError, match="why"):
        services.ignore_line(line, by=finance, reason=" ")
    line = services.ignore_line(line, by=finance, reason="Supplier refund")
    assert line.status == BankLine.Status.IGNORED
    assert not Payment.objects.exists()


def test_confirm_refused_when_the_invoice_was_paid_meanwhile(issue, finance):
    invoice = issue()
    line = _import(finance, _csv(f"2026-01-05,120.00,{invoice.number},")).lines.get()
    invoicing.record_payment(invoice, by=finance, amount=Decimal("120.00"))
    with pytest.raises(ValidationError, match=r"more than the GBP 0\.00 outstanding"):
        services.confirm_line(line, by=finance)
    line.refresh_from_db()
    assert line.status == BankLine.Status.PROPOSED
    assert Receipt.objects.count() == 0


def test_money_out_is_skipped_and_common_headers_are_understood(finance):
    text = (
        "Transaction Date;Details;Paid in;Counterparty\n"
        "05.01.2026;Invoice INV 2026 00001;1,234.50;Acme Ltd\n"
        "06.01.2026;Card fee;-3.00;Bank\n"
    )
    statement = _import(finance, text)
    line = statement.lines.get()
    assert line.amount == Decimal("1234.50")
    assert line.payer == "Acme Ltd"
    assert statement.skipped_money_out == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"When,How much\n2026-01-05,1.00\n", "no date or amount or reference column"),
        (b"Date,Amount,Reference\n2026-02-31,1.00,X\n", r"Row 2: .2026-02-31. is not a date"),
        (
            b"Date,Amount,Reference\n2026-01-05,1.00,A\n2026-01-06,ten,B\n",
            "Row 3: amount .ten. is not a number",
        ),
        (
            b"Date,Amount,Reference\n2026-01-05,1.005,A\n",
            "Row 2: amount .1.005. is not an amount of money",
        ),
        ("Date,Amount,Reference\n2026-01-05,1.00,Caf\u00e9\n".encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
        (b"Date,Amount,Reference\n", "no money-in lines"),
    ],
)
def test_malformed_files_are_refused_whole_naming_the_row(finance, content, message):
    with pytest.raises(ValidationError, match=message):
        services.import_statement(by=finance, filename="bad.csv", content=content, currency="GBP")
    assert not BankStatement.objects.exists()
    assert not BankLine.objects.exists()


def test_statement_in_another_currency_matches_nothing_of_ours(issue, finance):
    invoice = issue()
    line = _import(
        finance, _csv(f"2026-01-05,120.00,{invoice.number},"), currency="EUR"
    ).lines.get()
    assert line.status == BankLine.Status.UNMATCHED
    line = services.change_line(line, by=finance, customer=invoice.customer)
    with pytest.raises(ValidationError, match="is in GBP"):
        services.change_line(line, by=finance, invoice_numbers=invoice.number)


def test_sales_cannot_import_or_confirm(issue, sales, finance):
    with pytest.raises(PermissionDenied):
        _import(sales, _csv("2026-01-05,1.00,X,"))
    line = _import(finance, _csv("2026-01-05,1.00,X,")).lines.get()
    with pytest.raises(PermissionDenied):
        services.confirm_line(line, by=sales)


def test_separate_paid_in_and_paid_out_columns(finance):
    text = (
        "Date,Description,Paid out,Paid in\n"
        "05/01/2026,Card fee,3.00,\n"
        "06/01/2026,Invoice INV-2026-00009,,50.00\n"
    )
    statement = _import(finance, text)
    assert statement.lines.get().amount == Decimal("50.00")
    assert statement.skipped_money_out == 1


def test_an_empty_amount_in_a_single_amount_column_is_refused(finance):
    with pytest.raises(ValidationError, match=r"Row 2: amount .. is not a number"):
        _import(finance, "Date,Amount,Reference\n2026-01-05,,X\n")
