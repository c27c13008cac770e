import pytest
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.urls import reverse

from oms.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_admin_creates_a_user_with_a_role_who_can_log_in(client, admin_user, django_user_model):
    client.force_login(admin_user)
    sales = Group.objects.get(name=Role.SALES)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Starter@Example.com",
            "first_name": "New",
            "last_name": "Starter",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
            "groups": [sales.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = django_user_model.objects.get(email__iexact="new.starter@example.com")
    assert user.role_names == {"Sales"}
    client.logout()
    assert client.login(
        request=HttpRequest(), username=user.email, password="a long enough passphrase 42"
    )


def test_user_list_shows_roles(client, admin_user, sales):
    client.force_login(admin_user)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200
    assert b"sally@example.com" in response.content
    assert b"Sales" in response.content


def test_staff_page_without_staff_flag_is_refused(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 302
