"""The audit log records every sensitive act with actor, IP and time, and cannot be edited."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from invoicing.accounting.models import AccountMapping, XeroConnection
from oms.accounts.roles import Role
from oms.audit.models import AuditEntry
from oms.audit.services import record_audit
from oms.automation.models import Rule
from oms.links.services import issue_link
from tests.conftest import PASSWORD
from tests.factories import place_order

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
ADDRESS = "203.0.113.9"


def _entries(action: str):
    return AuditEntry.objects.filter(action=action).order_by("id")


# --- append-only ---------------------------------------------------------------------------


def test_an_entry_cannot_be_saved_again_or_deleted_through_the_model(sales):
    entry = record_audit(Action.EXPORT, actor=sales, filename="x.csv")
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()


def test_the_database_refuses_updates_and_deletes(sales):
    entry = record_audit(Action.EXPORT, actor=sales, filename="x.csv")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action=Action.LOGIN)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.action == Action.EXPORT


def test_the_admin_shows_entries_but_offers_no_add_change_or_delete(client, admin_user, sales):
    entry = record_audit(Action.EXPORT, actor=sales, filename="x.csv")
    client.force_login(admin_user)
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    page = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk])).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


# --- sign-in ---------------------------------------------------------------------------------


def test_a_login_and_logout_are_recorded_with_the_address(client, sales):
    client.post(
        reverse("accounts:login"),
        {"username": sales.email, "password": PASSWORD},
        REMOTE_ADDR=ADDRESS,
    )
    client.post(reverse("accounts:logout"), REMOTE_ADDR=ADDRESS)
    login, logout = _entries(Action.LOGIN).get(), _entries(Action.LOGOUT).get()
    assert (login.actor, login.actor_label, login.ip) == (sales, sales.email, ADDRESS)
    assert logout.actor == sales and logout.at >= login.at


def test_a_failed_login_names_the_email_tried_but_never_the_password(client, sales):
    client.post(
        reverse("accounts:login"),
        {"username": "Sally@Example.com", "password": "wrong guess"},
        REMOTE_ADDR=ADDRESS,
    )
    entry = _entries(Action.LOGIN_FAILED).get()
    assert entry.actor is None and entry.ip == ADDRESS
    assert entry.details["email"] == "sally@example.com"
    assert "wrong guess" not in str(entry.details)


def test_a_lockout_is_recorded(client, sales):
    for _ in range(5):
        client.post(
            reverse("accounts:login"),
            {"username": sales.email, "password": "nope"},
            REMOTE_ADDR=ADDRESS,
        )
    assert _entries(Action.LOGIN_FAILED).count() == 5
    assert _entries(Action.LOCKED_OUT).get().details["email"] == sales.email


# --- refusals, links and exports ---------------------------------------------------------------


def test_a_permission_denial_is_recorded_with_the_page(client, sales):
    client.force_login(sales)
    response = client.get(reverse("orders:pipeline"), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 403
    entry = _entries(Action.PERMISSION_DENIED).get()
    assert (entry.actor, entry.ip) == (sales, ADDRESS)
    assert entry.details["view"] == "orders:pipeline"
    assert entry.details["path"] == reverse("orders:pipeline")


def test_a_customer_link_use_is_recorded_without_a_staff_actor(client, sales):
    order = place_order(sales)
    link = issue_link(order, purpose="tracking", by=sales)
    response = client.get(reverse("orders:track", args=[link.token]), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200
    entry = _entries(Action.LINK_USED).get()
    assert entry.actor is None and entry.ip == ADDRESS
    assert (entry.target_type, entry.target_id) == ("links.customerlink", str(link.pk))
    assert entry.details["document"] == f"orders.order#{order.pk}"
    assert entry.details["purpose"] == "tracking"


def test_an_expired_link_use_is_recorded_as_expired(client, sales):
    order = place_order(sales)
    link = issue_link(
        order, purpose="tracking", by=sales, expires_at=timezone.now() - timedelta(days=1)
    )
    assert client.get(reverse("orders:track", args=[link.token])).status_code == 410
    assert _entries(Action.LINK_USED).get().details["outcome"] == "expired"


def test_a_csv_export_is_recorded_with_its_file_name(client, finance):
    client.force_login(finance)
    response = client.get(reverse("invoicing:receivables"), {"format": "csv"})
    assert response["Content-Type"] == "text/csv"
    entry = _entries(Action.EXPORT).get()
    assert entry.actor == finance
    assert entry.details["filename"].startswith("receivables-")
    assert entry.details["query"] == "format=csv"


def test_an_excel_export_is_recorded(client, sales):
    client.force_login(sales)
    response = client.get(
        reverse("imports:export", kwargs={"kind": "customers", "fmt": "xlsx"}), {"q": "acme"}
    )
    assert response.status_code == 200
    entry = _entries(Action.EXPORT).get()
    assert entry.actor == sales
    assert entry.details["view"] == "imports:export"
    assert entry.details["filename"].endswith(".xlsx")
    assert entry.details["query"] == "q=acme"


def test_an_ordinary_page_is_not_an_export(client, finance):
    client.force_login(finance)
    assert client.get(reverse("invoicing:receivables")).status_code == 200
    assert not _entries(Action.EXPORT).exists()


# --- configuration changes ---------------------------------------------------------------------


def test_giving_someone_a_role_is_recorded_with_who_did_it(client, admin_user, sales):
    client.force_login(admin_user)
    finance_group = Group.objects.get(name=Role.FINANCE)
    response = client.post(
        reverse("admin:accounts_user_change", args=[sales.pk]),
        {
            "email": sales.email,
            "first_name": sales.first_name,
            "last_name": "",
            "groups": [Group.objects.get(name=Role.SALES).pk, finance_group.pk],
            "is_active": "on",
            "notify_by_email": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    added = [e for e in _entries(Action.ROLES_CHANGED) if e.details.get("added")]
    assert added[-1].actor == admin_user
    assert added[-1].target_id == str(sales.pk)
    assert Role.FINANCE in added[-1].details["added"]


def test_adding_a_user_to_a_group_from_the_group_side_is_recorded(sales):
    Group.objects.get(name=Role.FINANCE).user_set.add(sales)
    entry = _entries(Action.ROLES_CHANGED).last()
    assert entry.target_id == str(sales.pk) and entry.details == {"added": [Role.FINANCE]}


def test_a_role_permission_change_is_recorded(sales):
    group = Group.objects.get(name=Role.SALES)
    permission = Permission.objects.get(codename="view_invoice")
    group.permissions.add(permission)
    entry = _entries(Action.CHANGED).filter(target_type="auth.group").last()
    assert entry.details["permissions"] == {"added": ["view_invoice"]}


def test_switching_a_rule_off_is_recorded_with_the_manager(client, manager):
    rule = Rule.objects.filter(enabled=True).order_by("pk").first()
    client.force_login(manager)
    client.post(reverse("automation:rule_toggle", args=[rule.pk]), REMOTE_ADDR=ADDRESS)
    entry = _entries(Action.CHANGED).filter(target_type="automation.rule").get()
    assert (entry.actor, entry.ip, entry.target_id) == (manager, ADDRESS, str(rule.pk))
    assert entry.details["changes"]["enabled"] == [True, False]


def test_a_new_rule_is_recorded(manager):
    rule = Rule.objects.create(
        name="Audit me", sequence=Rule.Sequence.OTHER, event_kind="order.confirmed"
    )
    assert _entries(Action.CREATED).filter(target_id=str(rule.pk)).exists()


def test_the_xero_connection_records_status_but_never_token_values():
    connection = XeroConnection.objects.create(status=XeroConnection.Status.DISCONNECTED)
    connection.status = XeroConnection.Status.ACTIVE
    connection.org_name = "Acme Ltd"
    connection.access_token_encrypted = "secret-token-text"
    connection.save()
    entry = _entries(Action.CHANGED).filter(target_type="accounting.xeroconnection").get()
    assert entry.details["changes"]["status"] == ["disconnected", "active"]
    assert "access_token_encrypted" not in entry.details["changes"]
    assert "secret-token-text" not in str(entry.details)


def test_a_token_refresh_alone_is_not_a_configuration_change():
    connection = XeroConnection.objects.create(status=XeroConnection.Status.ACTIVE)
    connection.refresh_count += 1
    connection.access_token_encrypted = "new"
    connection.save()
    assert not _entries(Action.CHANGED).filter(target_type="accounting.xeroconnection").exists()


def test_an_account_mapping_change_is_recorded():
    mapping = AccountMapping.current()
    mapping.sales_account_code = "201"
    mapping.save()
    entry = _entries(Action.CHANGED).filter(target_type="accounting.accountmapping").get()
    assert entry.details["changes"]["sales_account_code"] == ["200", "201"]


def test_a_password_change_is_recorded_without_the_hash(sales):
    sales.set_password("another long passphrase")
    sales.save()
    entry = _entries(Action.CHANGED).filter(target_type="accounts.user").get()
    assert entry.details["changes"] == {"password": "(changed)"}


def test_logging_in_alone_does_not_record_a_user_change(client, sales):
    client.post(reverse("accounts:login"), {"username": sales.email, "password": PASSWORD})
    assert not _entries(Action.CHANGED).filter(target_type="accounts.user").exists()


def test_api_tokens_are_recorded_when_made_and_revoked_but_not_when_used(sales, manager):
    from oms.api.models import ApiToken

    token = ApiToken.objects.create(name="Webshop", user=sales, prefix="abc", secret_hash="f" * 64)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    token.revoked_at, token.revoked_by = timezone.now(), manager
    token.save()
    entries = AuditEntry.objects.filter(target_type="api.apitoken").order_by("id")
    assert [entry.action for entry in entries] == [Action.CREATED, Action.CHANGED]
    assert set(entries[1].details["changes"]) == {"revoked_at", "revoked_by_id"}
    assert "f" * 64 not in str(entries[0].details)


def test_a_webhook_secret_rotation_is_recorded_without_the_secret(manager):
    from oms.webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(url="https://example.com/hook", owner=manager)
    old_secret = endpoint.secret
    endpoint.secret = "whsec_new"
    endpoint.save(update_fields=["secret"])
    entry = _entries(Action.CHANGED).filter(target_type="webhooks.webhookendpoint").get()
    assert entry.details["changes"] == {"secret": "(changed)"}
    assert old_secret not in str(entry.details) and "whsec_new" not in str(entry.details)


def test_pausing_a_scheduled_job_is_recorded():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    job = PeriodicTask.objects.create(name="Sweep", task="x.sweep", interval=every_minute)
    job.enabled = False
    job.save()
    entry = _entries(Action.CHANGED).filter(target_type="django_celery_beat.periodictask").get()
    assert entry.details["changes"] == {"enabled": [True, False]}
