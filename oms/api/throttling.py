"""Rate limiting per token: API_RATE_LIMIT requests per period, counted in the shared cache."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from oms.api.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """One bucket per token; a browser session counts per person, anonymous calls per IP."""

    scope = "api"

    def get_rate(self) -> str:
        # Read at request time, so the setting (and tests) can change it without a restart.
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"
