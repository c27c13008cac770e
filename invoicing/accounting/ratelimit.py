"""Xero's limits for one organisation, shared by every worker process through Redis.

One sorted set per organisation holds a member per call. While a call is in flight its score
is the lease expiry (in the future); when it finishes the score becomes the finish time, and
it leaves the set a window later. So "in flight" is the members scored after now, and "calls
this window" is every member left after pruning. Counting a call until a window after it
*finished* means no window of arrival times at Xero can ever hold more than the limit.
A crashed worker's call frees its slot when the lease runs out.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import redis
from django.conf import settings

from invoicing.accounting.provider import DailyLimitReached, RateLimited

LEASE_SECONDS = 120  # longer than any request may take (connect 10 s + read 60 s)

_ACQUIRE = """
local key, pause_key = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local max_in_flight = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local token = ARGV[6]
local paused = redis.call('GET', pause_key)
if paused and tonumber(paused) > now then
  return {0, tostring(tonumber(paused) - now)}
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local in_flight = redis.call('ZCOUNT', key, '(' .. now, '+inf')
if in_flight >= max_in_flight then
  return {0, '0.01'}
end
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 0.005 then wait = 0.005 end
  return {0, tostring(wait)}
end
redis.call('ZADD', key, now + lease, token)
redis.call('EXPIRE', key, math.ceil(window + lease + 60))
return {1, '0'}
"""

_RELEASE = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[2]), ARGV[1])
end
return 1
"""

_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None or _client.connection_pool.connection_kwargs.get("db") != _db():
        _client = redis.Redis.from_url(_url())
    return _client


def _url() -> str:
    url = settings.REDIS_URL or "redis://127.0.0.1:6379/0"
    return url


def _db() -> int:
    return redis.connection.parse_url(_url()).get("db", 0)


class XeroRateLimiter:
    """`with limiter.slot(): <one HTTP call>` waits for a slot within Xero's limits."""

    def __init__(self, tenant_id: str, *, max_wait: float = 5.0):
        self.tenant_id = tenant_id
        self.max_wait = max_wait
        self.key = f"xero:calls:{tenant_id}"
        self.pause_key = f"xero:pause:{tenant_id}"
        self.client = _redis()
        self._acquire = self.client.register_script(_ACQUIRE)
        self._release = self.client.register_script(_RELEASE)

    def try_acquire(self, token: str) -> float:
        """0 when the slot is taken, else seconds to wait before trying again."""
        ok, wait = self._acquire(
            keys=[self.key, self.pause_key],
            args=[
                repr(time.time()),
                settings.XERO_RATE_WINDOW_SECONDS,
                settings.XERO_RATE_LIMIT,
                settings.XERO_MAX_IN_FLIGHT,
                LEASE_SECONDS,
                token,
            ],
        )
        return 0.0 if int(ok) == 1 else float(wait)

    @contextmanager
    def slot(self) -> Iterator[None]:
        self._check_daily_budget()
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.max_wait
        while True:
            wait = self.try_acquire(token)
            if wait == 0:
                break
            if time.monotonic() + wait > deadline:
                # Waiting longer here would hold a worker idle; let the task retry later.
                raise RateLimited("Xero call budget in use; retrying shortly.", retry_after=wait)
            time.sleep(min(wait, 0.25))
        try:
            self._count_today()
            yield
        finally:
            self._release(keys=[self.key], args=[token, repr(time.time())])

    def pause(self, seconds: float) -> None:
        """Xero said 429 with Retry-After: no worker calls for this organisation before then."""
        until = time.time() + seconds
        self.client.set(self.pause_key, repr(until), px=max(int(seconds * 1000), 1))

    def in_flight(self) -> int:
        return int(self.client.zcount(self.key, f"({time.time()!r}", "+inf"))

    def _day_key(self) -> str:
        return f"xero:day:{self.tenant_id}:{datetime.now(UTC):%Y-%m-%d}"

    def _count_today(self) -> None:
        key = self._day_key()
        if self.client.incr(key) == 1:
            self.client.expire(key, 2 * 24 * 3600)

    def _check_daily_budget(self) -> None:
        if self.used_today() >= settings.XERO_DAILY_LIMIT:
            raise DailyLimitReached(
                f"The daily budget of {settings.XERO_DAILY_LIMIT} Xero calls is spent.",
                retry_after=seconds_until_utc_midnight(),
                status_code=None,
            )

    def used_today(self) -> int:
        return int(self.client.get(self._day_key()) or 0)

    def note_day_remaining(self, remaining: int) -> None:
        """What Xero itself says is left of today's budget (X-DayLimit-Remaining)."""
        self.client.set(f"xero:day-remaining:{self.tenant_id}", remaining, ex=24 * 3600)

    def day_remaining(self) -> int | None:
        value = self.client.get(f"xero:day-remaining:{self.tenant_id}")
        return None if value is None else int(value)

    def reset(self) -> None:
        self.client.delete(self.key, self.pause_key, self._day_key())


def seconds_until_utc_midnight() -> float:
    now = datetime.now(UTC)
    tomorrow = datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp() + 86400
    return max(tomorrow - now.timestamp(), 1.0)
