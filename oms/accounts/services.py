"""Staff sign-in security: setting up and checking the second factor (TOTP).

A person sets up an authenticator app by scanning a QR code and typing one code back; that
confirms the device and issues ten single-use recovery codes, shown once. Each step is
recorded in the audit log.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from oms.audit.models import AuditEntry
from oms.audit.services import record_audit

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def _clean(code: str) -> str:
    return "".join((code or "").split())


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed device whose QR code the setup page shows, made on first visit."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def confirm_totp_device(device: TOTPDevice, *, code: str, request=None) -> list[str]:
    """The first code from the app proves the QR code was scanned: the device is confirmed
    and fresh recovery codes are returned (shown once, stored only by django-otp)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed:
            raise ValidationError("This authenticator is already set up.")
        if not device.verify_token(_clean(code)):
            raise ValidationError(
                "That code is not right. Check the time on your phone and try the newest code."
            )
        device.confirmed = True
        device.save()
        codes = _replace_recovery_codes(device.user)
        record_audit(
            AuditEntry.Action.OTP_ENROLLED, request=request, actor=device.user, target=device.user
        )
    return codes


def _replace_recovery_codes(user) -> list[str]:
    static, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    # Earlier codes stop working: only the ones shown now are valid.
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def check_second_factor(user, *, code: str):
    """The device that accepts `code` (an app code or a recovery code, which is then used
    up), or None. Repeated wrong codes are throttled by django-otp."""
    return match_token(user, _clean(code))
