"""The Xero pages finance uses: settings and mappings, sync status with retry, the log."""

import pytest

from invoicing.accounting.models import AccountMapping, SyncLog, SyncRecord

pytestmark = pytest.mark.django_db

VALID = {
    "sales_account_code": "200",
    "invoice_status": "AUTHORISED",
    "tax_types": "20 = OUTPUT2\n5% = RROUTPUT\n0 = ZERORATEDOUTPUT",
    "default_payment_account": "090",
    "payment_card": "091",
}


def test_mappings_start_with_uk_defaults(finance, client):
    client.force_login(finance)

    page = client.get("/xero/").content.decode()

    assert "20.00 = OUTPUT2" in page
    assert 'value="200"' in page
    assert "Connect Xero" in page


def test_finance_saves_mappings(finance, client):
    client.force_login(finance)

    response = client.post("/xero/mappings/", VALID)

    assert response.status_code == 302
    mapping = AccountMapping.current()
    assert mapping.tax_types == {
        "20.00": "OUTPUT2",
        "5.00": "RROUTPUT",
        "0.00": "ZERORATEDOUTPUT",
    }
    assert mapping.payment_accounts["card"] == "091"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_types", "20 = output 2", "is not a Xero tax type"),
        ("tax_types", "twenty = OUTPUT2", "is not a rate"),
        ("tax_types", "20 = OUTPUT2\n20.0 = RROUTPUT", "mapped twice"),
        ("tax_types", "", "This field is required"),
        ("sales_account_code", "2 00", "must be a Xero account code"),
        ("payment_card", "91!", "Enter a Xero account code"),
    ],
)
def test_invalid_mappings_are_refused_with_a_reason(finance, client, field, value, message):
    client.force_login(finance)

    response = client.post(
        "/xero/mappings/", {**VALID, field: value}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    assert body.lstrip().startswith('<section class="card" id="mappings">')
    assert AccountMapping.current().sales_account_code == "200"


def test_sales_cannot_change_mappings(sales, client):
    client.force_login(sales)

    assert client.post("/xero/mappings/", VALID).status_code == 403


def make_records(count: int) -> None:
    SyncRecord.objects.bulk_create(
        SyncRecord(
            kind="invoice",
            local_id=n,
            label=f"INV-2026-{n:05d}",
            status="failed" if n % 2 else "synced",
            last_error="Refused" if n % 2 else "",
        )
        for n in range(count)
    )
    SyncLog.objects.bulk_create(
        SyncLog(action="push invoice", outcome="ok", record=r) for r in SyncRecord.objects.all()
    )


@pytest.mark.parametrize("count", [10, 100])
def test_sync_pages_use_a_fixed_number_of_queries(
    finance, client, count, django_assert_max_num_queries
):
    make_records(count)
    client.force_login(finance)

    with django_assert_max_num_queries(8):
        sync = client.get("/xero/sync/")
    with django_assert_max_num_queries(8):
        log = client.get("/xero/log/")

    assert sync.content.decode().count('<tr id="sync-row-') == count
    assert log.status_code == 200


def test_the_failed_filter_shows_retry_buttons_only_for_failures(finance, client):
    make_records(4)
    client.force_login(finance)

    page = client.get("/xero/sync/", {"status": "failed"}, headers={"HX-Request": "true"})

    body = page.content.decode()
    assert body.lstrip().startswith('<table id="sync-records">')
    assert body.count("Retry</button>") == 2
    assert page["Vary"].count("HX-Request") == 1


def test_retry_through_htmx_answers_with_the_row(finance, client):
    make_records(2)
    failed = SyncRecord.objects.get(status="failed")
    client.force_login(finance)

    response = client.post(f"/xero/sync/{failed.pk}/retry/", headers={"HX-Request": "true"})

    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="sync-row-{failed.pk}">')
    assert "Pending" in body
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert SyncLog.objects.filter(record=failed, action="retry").exists()
