"""The gate in front of every public customer page: rate limit, resolve, explain expiry."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from oms.audit.models import AuditEntry
from oms.audit.services import record_audit
from oms.links.ratelimit import is_rate_limited
from oms.links.services import LinkExpired, resolve_link

Action = AuditEntry.Action


def link_expired(request, link=None) -> HttpResponse:
    """A polite page with no document data; the customer is told how to get a new link."""
    return render(request, "links/link_expired.html", {"company": settings.COMPANY}, status=410)


def too_many_requests(request) -> HttpResponse:
    response = render(
        request, "links/too_many_requests.html", {"company": settings.COMPANY}, status=429
    )
    response["Retry-After"] = "60"
    return response


def public_link_view(purpose: str) -> Callable:
    """Decorate a public view taking `token`: it receives the resolved CustomerLink instead.

    Tampered, unknown and revoked tokens are 404 (raised by resolve_link); expired ones get
    the polite page; every request counts against the caller's IP budget for `purpose`.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, token: str, *args, **kwargs):
            if is_rate_limited(request, purpose):
                return too_many_requests(request)
            try:
                link = resolve_link(token, purpose=purpose)
            except LinkExpired as exc:
                record_audit(Action.LINK_USED, request=request, target=exc.link, outcome="expired")
                return link_expired(request, exc.link)
            response = view(request, link, *args, **kwargs)
            record_audit(
                Action.LINK_USED,
                request=request,
                target=link,
                document=f"{link.target_type}#{link.target_id}",
                purpose=purpose,
                method=request.method,
                status=response.status_code,
            )
            response["X-Robots-Tag"] = "noindex, nofollow"
            # The token is in the URL: never sent to another site, while same-origin form
            # posts keep their Origin header so Django's CSRF check can pass them.
            response["Referrer-Policy"] = "same-origin"
            response["Cache-Control"] = "private, no-store"
            return response

        return wrapper

    return decorate
