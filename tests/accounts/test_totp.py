"""Two-step sign-in: enrol an authenticator app, enter its code after the password, use a
recovery code once, and the roles the business names must enrol first. Wrong codes count
towards the same lockout as wrong passwords."""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from oms.accounts import services
from oms.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.44"


@contextmanager
def _later(seconds: int):
    """Codes are per 30 seconds and never accepted twice; django-otp also slows down retries
    after a wrong code. Tests step the clock instead of sleeping."""
    with time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False):
        yield


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _enrolled(user) -> TOTPDevice:
    device = services.pending_totp_device(user)
    services.confirm_totp_device(device, code=_code(device))
    device.refresh_from_db()
    return device


def _password_login(client, user, address: str = ADDRESS):
    return client.post(
        reverse("accounts:login"),
        {"username": user.email, "password": PASSWORD},
        REMOTE_ADDR=address,
    )


def _verify(client, code: str, next_url: str = "/"):
    return client.post(
        reverse("accounts:otp_verify"), {"code": code, "next": next_url}, REMOTE_ADDR=ADDRESS
    )


# --- enrolment --------------------------------------------------------------------------------


def test_the_setup_page_shows_a_qr_code_as_inline_svg_and_the_key(client, sales):
    client.force_login(sales)
    response = client.get(reverse("accounts:otp_setup"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page and "<script" not in page.split("<main")[1]
    assert 'style="' not in page and "data:image" not in page
    device = TOTPDevice.objects.get(user=sales, confirmed=False)
    secret = re.search(r'data-testid="otp-secret">([A-Z2-7=]+)<', page).group(1)
    assert secret.rstrip("=") and device.config_url.count(secret.rstrip("=")) == 1


def test_enrolment_with_the_right_code_confirms_and_shows_ten_recovery_codes(client, sales):
    client.force_login(sales)
    client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=sales)
    response = client.post(reverse("accounts:otp_setup"), {"code": _code(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action=AuditEntry.Action.OTP_ENROLLED, actor=sales).exists()
    assert client.get(reverse("accounts:home")).status_code == 200  # this session is verified


def test_enrolment_with_a_wrong_code_is_refused_and_changes_nothing(client, sales):
    client.force_login(sales)
    client.get(reverse("accounts:otp_setup"))
    response = client.post(reverse("accounts:otp_setup"), {"code": "000000"})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=sales, confirmed=True).exists()


# --- the code after the password --------------------------------------------------------------


def test_after_the_password_every_page_asks_for_the_code_first(client, sales):
    _enrolled(sales)
    with _later(60):
        response = _password_login(client, sales)
        assert response.status_code == 302
        home = client.get(reverse("accounts:home"))
        assert home.status_code == 302
        assert home.url == reverse("accounts:otp_verify") + "?next=%2F"
        search = client.get(reverse("orders:search"), headers={"HX-Request": "true"})
        assert search["HX-Redirect"].startswith(reverse("accounts:otp_verify"))
        assert client.get(reverse("accounts:otp_verify")).status_code == 200


def test_the_right_code_lets_the_person_in(client, sales):
    device = _enrolled(sales)
    with _later(60):
        _password_login(client, sales)
        response = _verify(client, _code(device), next_url=reverse("orders:search"))
        assert response.status_code == 302 and response.url == reverse("orders:search")
        assert client.get(reverse("accounts:home")).status_code == 200
    entry = AuditEntry.objects.get(action=AuditEntry.Action.OTP_VERIFIED)
    assert entry.actor == sales and entry.ip == ADDRESS


def test_a_wrong_code_is_refused_with_a_message_and_recorded(client, sales):
    _enrolled(sales)
    with _later(60):
        _password_login(client, sales)
        response = _verify(client, "123456")
        assert response.status_code == 400
        assert "That code is not right" in response.content.decode()
        assert client.get(reverse("accounts:home")).status_code == 302
    failed = AuditEntry.objects.get(action=AuditEntry.Action.OTP_FAILED)
    assert failed.details["email"] == sales.email


def test_a_recovery_code_works_once(client, sales):
    device = services.pending_totp_device(sales)
    codes = services.confirm_totp_device(device, code=_code(device))
    with _later(60):
        _password_login(client, sales)
        assert _verify(client, codes[0]).status_code == 302
        client.post(reverse("accounts:logout"))
        _password_login(client, sales)
        assert _verify(client, codes[0]).status_code == 400


def test_an_open_redirect_in_next_is_ignored(client, sales):
    device = _enrolled(sales)
    with _later(60):
        _password_login(client, sales)
        response = _verify(client, _code(device), next_url="https://evil.example.com/")
        assert response.url == reverse("accounts:home")


# --- required for some roles ------------------------------------------------------------------


def test_a_required_role_must_enrol_before_anything_else(client, finance, settings):
    settings.REQUIRE_TOTP_FOR = ["finance", "manager", "admin"]
    _password_login(client, finance)
    response = client.get(reverse("invoicing:drafts"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:otp_setup"))
    setup = client.get(reverse("accounts:otp_setup"))
    assert 'data-testid="otp-required"' in setup.content.decode()
    device = TOTPDevice.objects.get(user=finance)
    client.post(reverse("accounts:otp_setup"), {"code": _code(device)})
    assert client.get(reverse("invoicing:drafts")).status_code == 200


def test_a_role_not_named_is_not_asked(client, sales, settings):
    settings.REQUIRE_TOTP_FOR = ["finance", "manager", "admin"]
    _password_login(client, sales)
    assert client.get(reverse("accounts:home")).status_code == 200


def test_superusers_are_covered_by_admin(client, admin_user, settings):
    settings.REQUIRE_TOTP_FOR = ["admin"]
    client.post(reverse("accounts:login"), {"username": admin_user.email, "password": PASSWORD})
    assert client.get(reverse("accounts:home")).url.startswith(reverse("accounts:otp_setup"))


def test_logging_out_is_always_possible(client, finance, settings):
    settings.REQUIRE_TOTP_FOR = ["finance"]
    _password_login(client, finance)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response.url == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


# --- the lockout and the code -----------------------------------------------------------------


def test_five_wrong_codes_lock_out_and_sign_the_session_out(client, sales):
    _enrolled(sales)
    with _later(60):
        _password_login(client, sales)
    for attempt in range(5):
        with _later(120 + attempt * 120):  # past django-otp's growing delay each time
            response = _verify(client, "000000")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    with _later(800):
        # the password alone no longer gets in from this address
        assert _password_login(client, sales).status_code == 429


def test_the_right_code_clears_earlier_wrong_codes(client, sales):
    device = _enrolled(sales)
    with _later(60):
        _password_login(client, sales)
    for attempt in range(4):
        with _later(120 + attempt * 120):
            assert _verify(client, "000000").status_code == 400
    with _later(700):
        assert _verify(client, _code(device)).status_code == 302
        client.post(reverse("accounts:logout"), REMOTE_ADDR=ADDRESS)
        for _ in range(4):
            client.post(
                reverse("accounts:login"),
                {"username": sales.email, "password": "wrong"},
                REMOTE_ADDR=ADDRESS,
            )
        assert _password_login(client, sales).status_code == 302


def test_a_locked_out_person_never_reaches_the_code(client, sales):
    _enrolled(sales)
    for _ in range(5):
        client.post(
            reverse("accounts:login"),
            {"username": sales.email, "password": "wrong"},
            REMOTE_ADDR=ADDRESS,
        )
    response = _password_login(client, sales)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
