"""The second factor gate: a signed-in person who has set up a code generator must enter a
code before anything else; one whose role requires it must set one up first.

What a session still owes is worked out once, at login, and kept in the session, so
ordinary pages pay no query for the gate.
"""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

SESSION_KEY = "second_factor"
OWES_CODE = "verify"
OWES_SETUP = "setup"
SATISFIED = "ok"

# Pages reachable between the password and the code: the gate's own, logout and recovery.
OPEN_URL_NAMES = {
    "accounts:login",
    "accounts:logout",
    "accounts:health",
    "accounts:otp_verify",
    "accounts:otp_setup",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
}


def roles_requiring_second_factor(user) -> set[str]:
    """The user's own roles (lower-case, "admin" for a superuser) that REQUIRE_TOTP_FOR names."""
    if not settings.REQUIRE_TOTP_FOR:
        return set()
    names = {name.lower() for name in user.role_names}
    if user.is_superuser:
        names.add("admin")
    return names & set(settings.REQUIRE_TOTP_FOR)


def has_second_factor(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_owed(user) -> str:
    """What a fresh session of `user` owes before it may do anything."""
    if has_second_factor(user):
        return OWES_CODE
    if roles_requiring_second_factor(user):
        return OWES_SETUP
    return SATISFIED


def note_second_factor_owed(sender, request, user, **kwargs) -> None:
    """On login (a user_logged_in receiver): remember what this session owes."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = second_factor_owed(user)


def mark_second_factor_done(request) -> None:
    request.session[SESSION_KEY] = SATISFIED


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        destination = self._destination(request)
        if destination is None:
            return self.get_response(request)
        if request.headers.get("HX-Request") == "true":  # runs before HtmxMiddleware
            return HttpResponseClientRedirect(destination)
        return redirect(destination)

    def _destination(self, request) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        owed = request.session.get(SESSION_KEY)
        if owed is None:  # a session from before the gate existed
            owed = request.session[SESSION_KEY] = second_factor_owed(user)
        if owed == SATISFIED or self._is_open(request.path_info):
            return None
        if owed == OWES_SETUP and not roles_requiring_second_factor(user):
            return None  # the business no longer requires it for this role
        name = "accounts:otp_verify" if owed == OWES_CODE else "accounts:otp_setup"
        return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"

    @staticmethod
    def _is_open(path: str) -> bool:
        try:
            match = resolve(path)
        except Resolver404:
            return False
        return match.view_name in OPEN_URL_NAMES
