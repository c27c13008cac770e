"""Contacts, invoices, credit notes and payments pushed through the real xero-python client."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.accounting import services
from invoicing.accounting.models import AccountMapping, SyncLog, SyncRecord
from oms import money
from tests.factories import ContactFactory, CustomerFactory, line_data
from tests.xero.fake_xero import FakeXero

TAX_TYPES_BY_RATE = {Decimal("20"): "OUTPUT2", Decimal("5"): "RROUTPUT", Decimal("0"): "NONE"}


@pytest.mark.django_db
def test_approved_invoice_becomes_one_xero_invoice_with_contact(
    connected, xero, approved_invoice, mixed_lines
):
    customer = CustomerFactory(name="Bright Lights Ltd")
    ContactFactory(customer=customer, role="billing", email="accounts@bright.example")
    invoice = approved_invoice(lines=mixed_lines, customer=customer, po_reference="PO-778")

    record = services.sync_invoice(invoice.pk)

    assert record.status == SyncRecord.Status.SYNCED
    [remote] = xero.invoices.values()
    assert record.external_id == remote["InvoiceID"]
    assert remote["InvoiceNumber"] == invoice.number
    assert remote["Reference"] == f"{invoice.order.number} / PO PO-778"
    assert remote["Status"] == "AUTHORISED"
    assert [line["TaxType"] for line in remote["LineItems"]] == ["OUTPUT2", "RROUTPUT"]
    assert {line["AccountCode"] for line in remote["LineItems"]} == {"200"}
    [contact] = xero.contacts.values()
    assert contact["Name"] == "Bright Lights Ltd"
    assert contact["EmailAddress"] == "accounts@bright.example"
    assert remote["Contact"]["ContactID"] == contact["ContactID"]


@pytest.mark.django_db
def test_invoice_totals_equal_xeros_to_the_cent(connected, xero, approved_invoice):
    awkward = [
        [line_data(quantity=Decimal("3"), unit_price=Decimal("33.33"))],
        [
            line_data(quantity=Decimal("7"), unit_price=Decimal("0.99"), tax_rate=Decimal("5")),
            line_data(
                quantity=Decimal("1.5"),
                unit_price=Decimal("19.99"),
                discount_percent=Decimal("12.5"),
            ),
            line_data(quantity=Decimal("2"), unit_price=Decimal("10.05"), tax_rate=Decimal("0")),
        ],
        [line_data(quantity=Decimal("0.333"), unit_price=Decimal("1234.56"))],
        [
            line_data(quantity=Decimal("11"), unit_price=Decimal("0.05"), tax_rate=Decimal("5")),
            line_data(quantity=Decimal("1"), unit_price=Decimal("0.02")),
        ],
    ]
    for lines in awkward:
        invoice = approved_invoice(lines=lines)
        record = services.sync_invoice(invoice.pk)
        remote = xero.invoices[record.external_id]
        assert (remote["SubTotal"], remote["TotalTax"], remote["Total"]) == (
            invoice.net_total,
            invoice.tax_total,
            invoice.gross_total,
        )


@pytest.mark.django_db
def test_customer_matched_by_name_and_email_is_not_duplicated(connected, xero):
    customer = CustomerFactory(name="Harbour Works")
    ContactFactory(customer=customer, role="billing", email="ap@harbour.example")
    xero.contacts["existing"] = {
        "ContactID": "existing",
        "Name": "Harbour Works",
        "EmailAddress": "AP@harbour.example",
    }

    record = services.sync_contact(customer.pk)

    assert record.external_id == "existing"
    assert len(xero.contacts) == 1
    assert not [c for c in xero.api_calls() if c.method == "PUT"]


@pytest.mark.django_db
def test_stored_contact_id_is_used_without_a_lookup(connected, xero):
    customer = CustomerFactory(name="Quay Street Ltd")
    first = services.sync_contact(customer.pk)
    customer.billing_address = "9 New Road, York"
    customer.save()
    calls_before = len(xero.api_calls())

    second = services.sync_contact(customer.pk)

    assert second.external_id == first.external_id
    assert len(xero.contacts) == 1
    new_calls = xero.api_calls()[calls_before:]
    assert [(c.method, c.path.split("/")[-2]) for c in new_calls] == [("POST", "Contacts")]


@pytest.mark.django_db
def test_a_second_push_of_an_unchanged_invoice_makes_no_call(connected, xero, approved_invoice):
    invoice = approved_invoice()
    services.sync_invoice(invoice.pk)
    calls = len(xero.api_calls())

    services.sync_invoice(invoice.pk)

    assert len(xero.api_calls()) == calls
    assert len(xero.invoices) == 1


@pytest.mark.django_db
def test_an_update_to_a_pushed_draft_updates_the_same_xero_invoice(
    connected, xero, approved_invoice, finance
):
    services.update_mapping(by=finance, invoice_status=AccountMapping.InvoiceStatus.DRAFT)
    invoice = approved_invoice()
    first = services.sync_invoice(invoice.pk)
    assert xero.invoices[first.external_id]["Status"] == "DRAFT"

    services.update_mapping(by=finance, sales_account_code="210")
    second = services.sync_invoice(invoice.pk)

    assert second.external_id == first.external_id
    assert len(xero.invoices) == 1
    remote = xero.invoices[first.external_id]
    assert {line["AccountCode"] for line in remote["LineItems"]} == {"210"}
    assert [c.method for c in xero.api_calls() if "/Invoices" in c.path][-1] == "POST"


@pytest.mark.django_db
def test_credit_note_is_pushed_and_allocated_to_its_invoice(
    connected, xero, approved_invoice, manager
):
    from invoicing.services import create_credit_note

    invoice = approved_invoice()
    services.sync_invoice(invoice.pk)
    note = create_credit_note(invoice, by=manager, reason="Damaged", amount=Decimal("30.00"))

    record = services.sync_invoice(note.pk)

    assert record.kind == SyncRecord.Kind.CREDIT_NOTE
    remote = xero.credit_notes[record.external_id]
    assert remote["CreditNoteNumber"] == note.number
    assert remote["Total"] == Decimal("30.00")
    [remote_invoice] = xero.invoices.values()
    assert remote_invoice["AmountCredited"] == Decimal("30.00")


@pytest.mark.django_db
def test_payment_recorded_in_the_oms_is_pushed_once(connected, xero, approved_invoice, finance):
    from invoicing.services import record_payment

    invoice = approved_invoice()
    payment = record_payment(invoice, by=finance, amount=Decimal("50.00"), reference="BACS 1")

    record = services.sync_payment(payment.pk)
    services.sync_payment(payment.pk)

    [remote] = xero.payments.values()
    assert record.external_id == remote["PaymentID"]
    assert remote["Amount"] == Decimal("50.00")
    assert remote["Reference"] == f"OMS-PAY-{payment.pk} BACS 1"
    assert remote["Account"]["Code"] == "090"
    assert SyncRecord.objects.get(kind="invoice", local_id=invoice.pk).status == "synced"


@pytest.mark.django_db
def test_missing_tax_mapping_fails_with_a_reason_and_no_call(connected, xero, approved_invoice):
    invoice = approved_invoice(lines=[line_data(tax_rate=Decimal("17.5"))])

    with pytest.raises(services.ValidationFailed):
        services.sync_invoice(invoice.pk)

    record = SyncRecord.objects.get(kind="invoice", local_id=invoice.pk)
    assert record.status == SyncRecord.Status.FAILED
    assert "17.50%" in record.last_error
    assert not xero.invoices
    assert SyncLog.objects.filter(record=record, outcome="failed").exists()


@given(
    lines=st.lists(
        st.tuples(
            st.decimals(min_value="0.001", max_value="500", places=3),
            st.decimals(min_value="0", max_value="9999.99", places=2),
            st.sampled_from([Decimal("0"), Decimal("5"), Decimal("12.5"), Decimal("33.33")]),
            st.sampled_from(list(TAX_TYPES_BY_RATE)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_oms_line_arithmetic_matches_xeros_to_the_cent(lines):
    """The same rounding rule on both sides: each line rounded, tax per line."""
    fake = FakeXero()
    items = [
        {
            "Quantity": quantity,
            "UnitAmount": price,
            "DiscountRate": discount,
            "TaxType": TAX_TYPES_BY_RATE[rate],
        }
        for quantity, price, discount, rate in lines
    ]
    _, xero_subtotal, xero_tax = fake._lines(items)
    nets = [money.line_net(q, p, d) for q, p, d, _ in lines]
    taxes = [money.line_tax(net, rate) for net, (_, _, _, rate) in zip(nets, lines, strict=True)]

    assert (sum(nets), sum(taxes)) == (xero_subtotal, xero_tax)
