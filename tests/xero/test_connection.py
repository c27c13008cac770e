"""Connecting Xero through OAuth 2.0, single-flight token refresh, reconnect and disconnect;
tokens stay encrypted and never reach logs or pages."""

import logging
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from invoicing.accounting import services
from invoicing.accounting.models import SyncRecord, XeroConnection
from invoicing.accounting.provider import NotConnected
from tests.factories import CustomerFactory
from tests.xero.fake_xero import TENANT_ID, TENANT_NAME


def connect_through_views(client, xero) -> XeroConnection:
    response = client.post("/xero/connect/")
    assert response.status_code == 302
    authorize = urlparse(response["Location"])
    query = parse_qs(authorize.query)
    assert authorize.path == "/identity/connect/authorize"
    assert query["response_type"] == ["code"]
    assert "offline_access" in query["scope"][0]
    callback = client.get("/xero/callback", {"code": xero.issue_code(), "state": query["state"][0]})
    assert callback.status_code == 302
    return XeroConnection.objects.get()


@pytest.mark.django_db
def test_finance_connects_xero_through_the_authorisation_code_flow(xero, finance, client):
    client.force_login(finance)

    connection = connect_through_views(client, xero)

    assert connection.status == XeroConnection.Status.ACTIVE
    assert connection.tenant_id == TENANT_ID
    assert connection.org_name == TENANT_NAME
    assert connection.connected_by == finance
    page = client.get("/xero/").content.decode()
    assert TENANT_NAME in page
    assert "Last synced: not yet" in page

    services.sync_contact(CustomerFactory().pk)

    page = client.get("/xero/").content.decode()
    assert "Last synced: not yet" not in page
    assert "Xero calls today: 2 of 5000; Xero reports 4998 left." in page


@pytest.mark.django_db
def test_a_callback_with_a_foreign_state_connects_nothing(xero, finance, client):
    client.force_login(finance)
    client.post("/xero/connect/")

    response = client.get("/xero/callback", {"code": xero.issue_code(), "state": "forged"})

    assert response.status_code == 302
    assert not XeroConnection.objects.filter(status="active").exists()


@pytest.mark.django_db
def test_tokens_are_stored_encrypted(connected, xero):
    access, refresh = xero.issued_tokens[-2:]
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM accounting_xeroconnection"
        )
        stored = " ".join(cursor.fetchone())

    assert access not in stored and refresh not in stored
    connection = XeroConnection.objects.get()
    assert (connection.access_token, connection.refresh_token) == (access, refresh)


@pytest.mark.django_db(transaction=True)
def test_exactly_one_token_refresh_under_twenty_concurrent_calls(xero, finance):
    xero.access_token_seconds = 60  # inside the refresh margin from the start
    services.connect_xero(by=finance, code=xero.issue_code())
    xero.access_token_seconds = 1800
    customers = [CustomerFactory() for _ in range(20)]
    start = threading.Barrier(20)
    errors = []

    def worker(customer_id):
        start.wait()
        try:
            services.sync_contact(customer_id)
        except Exception as error:
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker, args=[c.pk]) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert xero.refresh_calls == 1
    connection = XeroConnection.objects.get()
    assert connection.refresh_count == 1
    assert connection.refresh_token in xero.refresh_tokens  # the rotated one is stored
    assert connection.expires_at > timezone.now() + timedelta(minutes=20)
    assert SyncRecord.objects.filter(kind="contact", status="synced").count() == 20


@pytest.mark.django_db
def test_a_revoked_grant_shows_finance_a_reconnect_banner(connected, xero, finance, client):
    XeroConnection.objects.update(expires_at=timezone.now())
    xero.refresh_tokens.clear()  # someone removed the app in Xero
    customer = CustomerFactory()
    services.queue_sync(SyncRecord.Kind.CONTACT, customer)

    with pytest.raises(NotConnected):
        services.sync_contact(customer.pk)

    connection = XeroConnection.objects.get()
    assert connection.status == XeroConnection.Status.RECONNECT
    assert SyncRecord.objects.get(kind="contact").status == SyncRecord.Status.PENDING
    client.force_login(finance)
    for url in ("/", "/xero/", "/xero/sync/", "/xero/log/"):  # finance's home page too
        page = client.get(url).content.decode()
        assert "Reconnect Xero" in page

    with pytest.raises(NotConnected):
        services.sync_contact(customer.pk)  # no further refresh attempts with a dead grant
    assert xero.refresh_calls == 1

    connect_through_views(client, xero)
    assert services.sync_contact(customer.pk).status == SyncRecord.Status.SYNCED


@pytest.mark.django_db
def test_disconnect_revokes_the_tokens(connected, xero, finance, client):
    refresh = XeroConnection.objects.get().refresh_token
    client.force_login(finance)

    response = client.post("/xero/disconnect/")

    assert response.status_code == 302
    assert xero.revoked == [refresh]
    connection = XeroConnection.objects.get()
    assert connection.status == XeroConnection.Status.DISCONNECTED
    assert connection.access_token_encrypted == connection.refresh_token_encrypted == ""
    with pytest.raises(NotConnected):
        services.sync_contact(CustomerFactory().pk)


@pytest.mark.django_db
def test_no_token_ever_appears_in_logs_or_pages(xero, finance, client, caplog, approved_invoice):
    caplog.set_level(logging.DEBUG)
    client.force_login(finance)
    xero.access_token_seconds = 60
    connect_through_views(client, xero)
    xero.access_token_seconds = 1800
    invoice = approved_invoice()
    services.sync_invoice(invoice.pk)  # refreshes on the way
    xero.fail_next("PUT", "/Payments", "400", message="Payment rejected")
    XeroConnection.objects.update(expires_at=timezone.now())
    xero.refresh_tokens.clear()
    with pytest.raises(NotConnected):
        services.sync_contact(CustomerFactory().pk)

    pages = "".join(
        client.get(url).content.decode() for url in ("/xero/", "/xero/sync/", "/xero/log/")
    )
    assert xero.refresh_calls >= 2
    assert len(xero.issued_tokens) >= 4
    for token in xero.issued_tokens:
        assert token not in caplog.text
        assert token not in pages
        assert token[3:] not in caplog.text
    assert repr(XeroConnection.objects.get()).count("at-") == 0


@pytest.mark.django_db
def test_an_organisation_that_removed_the_app_asks_for_reconnection(connected, xero):
    xero.fail_next("GET", "/Contacts", "403")
    customer = CustomerFactory()

    with pytest.raises(NotConnected):
        services.sync_contact(customer.pk)

    assert XeroConnection.objects.get().status == XeroConnection.Status.RECONNECT
    assert SyncRecord.objects.get(kind="contact").status == SyncRecord.Status.PENDING


@pytest.mark.django_db
def test_the_banner_tag_shows_finance_only(connected, finance, sales, rf):
    from django.template import Context, Template

    XeroConnection.objects.update(status=XeroConnection.Status.RECONNECT)
    template = Template("{% load accounting_tags %}{% xero_banner %}")
    request = rf.get("/")

    request.user = finance
    assert "Reconnect Xero" in template.render(Context({"request": request}))
    request.user = sales
    assert "Reconnect Xero" not in template.render(Context({"request": request}))
