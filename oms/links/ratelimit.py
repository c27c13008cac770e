"""Per-IP rate limiting for public (no-login) pages, counted in Django's cache."""

import time

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    # Behind a proxy the first X-Forwarded-For hop is the client; only trusted when configured.
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def is_rate_limited(request, scope: str) -> bool:
    """Count this request against the IP's budget for `scope` in the current window;
    True once the budget (settings.PUBLIC_RATE_LIMIT per PUBLIC_RATE_WINDOW_SECONDS) is spent."""
    window = settings.PUBLIC_RATE_WINDOW_SECONDS
    bucket = int(time.time() // window)
    key = f"ratelimit:{scope}:{client_ip(request)}:{bucket}"
    # add() is atomic; incr() then counts without a read-modify-write race.
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count > settings.PUBLIC_RATE_LIMIT
