import pytest
from django.core.cache import cache
from django.test import RequestFactory

from oms.links.ratelimit import is_rate_limited

# These count requests in the shared Redis cache (and clear it): run after the parallel pass.
pytestmark = pytest.mark.serial


@pytest.fixture
def limited(settings):
    settings.PUBLIC_RATE_LIMIT = 3
    settings.PUBLIC_RATE_WINDOW_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def _request(ip: str):
    return RequestFactory().get("/", REMOTE_ADDR=ip)


def test_requests_beyond_the_budget_are_limited(limited):
    results = [is_rate_limited(_request("198.51.100.7"), "tracking") for _ in range(5)]
    assert results == [False, False, False, True, True]


def test_budget_is_per_ip_and_per_scope(limited):
    for _ in range(4):
        is_rate_limited(_request("198.51.100.8"), "tracking")
    assert is_rate_limited(_request("198.51.100.8"), "tracking")
    assert not is_rate_limited(_request("198.51.100.9"), "tracking")
    assert not is_rate_limited(_request("198.51.100.8"), "quote")
