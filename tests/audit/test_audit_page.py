"""The audit log page: administrators only, filtered by who, what and when, paginated."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from oms.audit.models import AuditEntry
from oms.audit.services import record_audit

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action


def _fill(count: int, actor) -> None:
    for number in range(count):
        record_audit(Action.EXPORT, actor=actor, filename=f"file-{number}.csv")


@pytest.mark.parametrize("role", ["sales", "operations", "finance", "manager"])
def test_only_administrators_may_read_it(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert client.get(reverse("audit:log")).status_code == 403
    # ...and the refusal itself is on the record
    assert AuditEntry.objects.filter(action=Action.PERMISSION_DENIED, actor=user).exists()


def test_the_page_lists_entries_newest_first_with_who_where_and_what(client, admin_user, sales):
    record_audit(Action.EXPORT, actor=sales, filename="old.csv")
    record_audit(Action.LOGIN_FAILED, email="<script>alert(1)</script>")
    client.force_login(admin_user)
    page = client.get(reverse("audit:log")).content.decode()
    assert page.index("Failed login") < page.index("Export downloaded")
    assert "sally@example.com" in page and "old.csv" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="/audit/"' in page  # the administrator's menu link


@pytest.mark.parametrize("rows", [10, 100])
def test_query_count_does_not_grow_with_the_log(
    client, admin_user, sales, rows, django_assert_max_num_queries
):
    _fill(rows, sales)
    client.force_login(admin_user)
    url = reverse("audit:log") + "?action=export"
    client.get(url)  # warm the session
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    expected = min(rows, 50)
    assert response.content.decode().count("data-entry=") == expected


def test_pages_of_fifty_keep_the_filters(client, admin_user, sales):
    _fill(60, sales)
    client.force_login(admin_user)
    first = client.get(reverse("audit:log"), {"action": Action.EXPORT}).content.decode()
    assert first.count("data-entry=") == 50
    assert "Page 1 of 2" in first
    assert "action=export&amp;page=2" in first
    second = client.get(reverse("audit:log"), {"action": Action.EXPORT, "page": 2})
    assert second.content.decode().count("data-entry=") == 10


def test_filter_by_actor_action_and_date(client, admin_user, sales, finance):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        record_audit(Action.EXPORT, actor=sales, filename="long-ago.csv")
    record_audit(Action.EXPORT, actor=sales, filename="today.csv")
    record_audit(Action.EXPORT, actor=finance, filename="finance.csv")
    record_audit(Action.LOGIN, actor=sales)
    client.force_login(admin_user)
    today = timezone.localdate()

    def shown(**filters) -> str:
        return client.get(reverse("audit:log"), filters).content.decode()

    by_sally = shown(actor="sally", action=Action.EXPORT)
    assert "today.csv" in by_sally and "long-ago.csv" in by_sally
    assert "finance.csv" not in by_sally and "Logged in" not in by_sally.split("</thead>")[1]
    recent = shown(actor="sally", date_from=(today - timedelta(days=1)).isoformat())
    assert "today.csv" in recent and "long-ago.csv" not in recent
    old = shown(date_to=(today - timedelta(days=5)).isoformat())
    assert "long-ago.csv" in old and "today.csv" not in old


def test_bad_filters_get_a_message_not_an_error(client, admin_user):
    client.force_login(admin_user)
    response = client.get(
        reverse("audit:log"), {"date_from": "2030-02-01", "date_to": "2030-01-01"}
    )
    assert response.status_code == 400
    assert "The start date is after the end date." in response.content.decode()
    response = client.get(reverse("audit:log"), {"date_from": "not a date", "page": "x"})
    assert response.status_code == 400
