"""Five failed logins for one email from one address lock that pair out for 30 minutes, with
a page that reads the same whether or not the account exists (django-axes)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.7"
OTHER_ADDRESS = "198.51.100.8"


def _login(client, email: str, password: str, address: str = ADDRESS):
    return client.post(
        reverse("accounts:login"),
        {"username": email, "password": password},
        REMOTE_ADDR=address,
    )


def _fail(client, email: str, times: int, address: str = ADDRESS):
    return [_login(client, email, "wrong password", address) for _ in range(times)]


def test_the_settings_say_five_failures_and_thirty_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=30) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_four_failures_still_allow_the_right_password(client, sales):
    responses = _fail(client, sales.email, 4)
    assert all(response.status_code == 200 for response in responses)
    assert _login(client, sales.email, PASSWORD).status_code == 302


def test_the_fifth_failure_locks_out_even_the_right_password(client, sales):
    responses = _fail(client, sales.email, 5)
    assert [response.status_code for response in responses] == [200, 200, 200, 200, 429]
    locked = _login(client, sales.email, PASSWORD)
    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert locked["Retry-After"] == "1800"
    assert "_auth_user_id" not in client.session


def _without_csrf(page: str) -> str:
    return re.sub(r'X-CSRFToken": "[^"]*"', "", page)


def test_the_lockout_page_is_the_same_for_an_account_that_does_not_exist(client, sales):
    real = _without_csrf(_fail(client, sales.email, 5)[-1].content.decode())
    made_up = _without_csrf(_fail(client, "nobody@example.com", 5)[-1].content.decode())
    assert real == made_up
    assert sales.email not in real


def test_the_email_is_counted_however_it_is_typed(client, sales):
    _fail(client, sales.email.upper(), 3)
    _fail(client, f"  {sales.email} ", 2)
    assert _login(client, sales.email, PASSWORD).status_code == 429


def test_another_address_is_not_locked_out(client, sales):
    _fail(client, sales.email, 5)
    assert _login(client, sales.email, PASSWORD, address=OTHER_ADDRESS).status_code == 302


def test_another_email_from_the_same_address_is_not_locked_out(client, sales, finance):
    _fail(client, sales.email, 5)
    assert _login(client, finance.email, PASSWORD).status_code == 302


def test_the_lockout_ends_after_thirty_minutes(client, sales):
    _fail(client, sales.email, 5)
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert _login(client, sales.email, PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert _login(client, sales.email, PASSWORD).status_code == 302


def test_a_successful_login_clears_earlier_failures(client, sales):
    _fail(client, sales.email, 4)
    assert _login(client, sales.email, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"), REMOTE_ADDR=ADDRESS)
    responses = _fail(client, sales.email, 4)
    assert all(response.status_code == 200 for response in responses)
    assert _login(client, sales.email, PASSWORD).status_code == 302


def test_an_ordinary_failure_says_nothing_about_whether_the_account_exists(client, sales):
    real = _login(client, sales.email, "wrong").content.decode()
    made_up = _login(client, "nobody@example.com", "wrong").content.decode()
    assert "Please enter a correct email address and password" in real
    assert "Please enter a correct email address and password" in made_up
