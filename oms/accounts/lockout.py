"""Login lockout (django-axes) keyed on the email someone tried, however they typed it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render

from oms.links.ratelimit import client_ip


def attempted_email(request: HttpRequest | None, credentials: dict | None) -> str:
    """The email a login attempt named, normalised so "Sam@X.com " and "sam@x.com" share one
    counter. Accepts the login form's `username` box and `email=` credentials alike."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if not value and request is not None and request.method == "POST":
        value = request.POST.get("username", "")
    return str(value or "").strip().lower()


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """The polite lockout page (429). It never says whether the account exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(
        request, "registration/locked_out.html", {"lockout_minutes": minutes}, status=429
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def client_ip_address(request: HttpRequest) -> str | None:
    """The caller's address as django-axes stores it: a valid IP, or None when there is none
    (a request made inside the process, such as the test client's login)."""
    candidate = client_ip(request)
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
