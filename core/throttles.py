"""Rate limits: DRF throttles for the API, and one cache-based limit for pages.

Rates are read from settings on every check (not frozen at import), as
"N/second|minute|hour|day": API_THROTTLE_RATES for the API, PAGE_RATE_LIMITS
for pages. An exceeded limit answers 429 with Retry-After, and says so.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """("10/minute") -> (10, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0]]


def client_ip(request: Any) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is the client's to write unless a trusted proxy sets it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class ClientRateThrottle(BaseThrottle):
    """One bucket per caller: a signed-in user, a site or mirror token (not the IP a
    thousand customer instances may share behind one proxy), or else the IP address.

    A sliding window counted in two fixed windows (the current one, and the previous one
    weighted by how much of it still lies within the last period): two counters per caller in
    the cache, read in one get_many and bumped with one atomic incr, whatever the rate. (DRF's
    SimpleRateThrottle keeps every request's time in one cached list that each request reads
    and writes whole: its cost grows with the rate, and two processes can overwrite each
    other's list.)
    """

    scope = ""
    cache_format = "throttle_%(scope)s_%(ident)s"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        rate = settings.API_THROTTLE_RATES.get(self.scope)
        key = self.get_cache_key(request, view) if rate else None
        if key is None:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        current, previous = f"{key}:{window}", f"{key}:{window - 1}"
        # This request is counted first (one round trip on Redis: bump this window, read the one
        # before) and taken back when it is refused: a refused request does not count.
        held, before = _count_in(current, previous, timeout=2 * period + 1)
        held -= 1  # the requests before this one
        elapsed = now - window * period
        if before * (1 - elapsed / period) + held >= limit:
            _count_out(current)
            self._wait = _sliding_wait(limit, period, elapsed, held, before)
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def _redis(key: str) -> tuple[Any, str] | None:
    """Django's Redis cache backend's own client and the key as that backend stores it; None for
    other backends. Counters are plain integers there (Django's Redis serializer stores ints as
    they are), so reading them in one MGET and bumping them with INCR is what get_many and incr
    do, in one round trip each instead of one and two, with less of Django's layering: this
    runs on every API request, the update check's included."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    stored = backend.make_and_validate_key(key)
    return backend._cache.get_client(stored, write=True), stored


def _counts(*keys: str) -> list[int]:
    """The counters' values (0 for a missing one), in one read."""
    redis = _redis(keys[0])
    if redis is None:
        found = cache.get_many(list(keys))
        return [found.get(key, 0) for key in keys]
    client, _ = redis
    stored = [caches["default"].make_and_validate_key(key) for key in keys]
    return [int(value) if value is not None else 0 for value in client.mget(stored)]


def _count_in(current: str, previous: str, *, timeout: int) -> tuple[int, int]:
    """Add one to the `current` counter (atomically; a new counter expires `timeout` seconds
    later) and read the `previous` one: (current after the bump, previous)."""
    redis = _redis(current)
    if redis is not None:
        client, stored = redis
        pipe = client.pipeline(transaction=False)
        pipe.incr(stored)
        pipe.expire(stored, timeout)  # the key names its window: a later expiry only keeps it a little longer
        pipe.get(caches["default"].make_and_validate_key(previous))
        held, _, before = pipe.execute()
        return int(held), int(before or 0)
    before = cache.get(previous, 0)
    if cache.add(current, 1, timeout=timeout):
        return 1, before
    try:
        return cache.incr(current), before
    except ValueError:  # expired between the add and the bump
        cache.set(current, 1, timeout=timeout)
        return 1, before


def _count_out(key: str) -> None:
    """Take back one count of a refused request (expired meanwhile: nothing to take back)."""
    with contextlib.suppress(ValueError):
        cache.decr(key)


def _sliding_wait(limit: int, period: int, elapsed: float, held: int, before: int) -> float:
    """Seconds until the weighted count falls below the limit: the previous window's share
    decays as time moves on; when the current window alone is full, its end."""
    if held >= limit or before == 0:
        return max(1.0, period - elapsed)
    # before * (1 - t / period) + held < limit  <=>  t > period * (1 - (limit - held) / before)
    return max(1.0, round(period * (1 - (limit - held) / before) - elapsed, 3))  # no 10.000000001 -> 11


class AuthenticatedRateThrottle(ClientRateThrottle):
    scope = "authenticated"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        elif request.auth is not None and getattr(request.auth, "pk", None) is not None:
            ident = f"{type(request.auth).__name__.lower()}:{request.auth.pk}"
        else:
            return None  # anonymous: AnonymousRateThrottle
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(ClientRateThrottle):
    scope = "anonymous"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if (request.user and request.user.is_authenticated) or request.auth is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


def _failure_key(request: Any, window: int) -> str:
    return f"ratelimit:token-failures:{client_ip(request)}:{window}"


def token_failures_check(request: Any) -> None:
    """Refuse (429) an address that sent too many unknown tokens: guessing tokens is throttled
    before any lookup, since DRF checks throttles only after authentication succeeded."""
    rate = settings.API_THROTTLE_RATES.get("token-failures")
    if not rate:
        return
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    if _counts(_failure_key(request, window))[0] >= limit:
        raise Throttled(wait=max(1, int((window + 1) * period - time.time())))


def token_failure_record(request: Any) -> None:
    rate = settings.API_THROTTLE_RATES.get("token-failures")
    if not rate:
        return
    _limit, period = parse_rate(rate)
    key = _failure_key(request, int(time.time() // period))
    cache.add(key, 0, timeout=period + 1)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=period + 1)


def page_rate_limit(scope: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Limit a page per client IP (a fixed window in the cache); over the limit it answers 429."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            rate = settings.PAGE_RATE_LIMITS.get(scope)
            if rate and request.method in methods:
                limit, period = parse_rate(rate)
                window = int(time.time() // period)
                key = f"ratelimit:{scope}:{client_ip(request)}:{window}"
                cache.add(key, 0, timeout=period + 1)
                try:
                    count = cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, timeout=period + 1)
                    count = 1
                if count > limit:
                    retry_after = max(1, int((window + 1) * period - time.time()))
                    response = render(
                        request,
                        "rate_limited.html",
                        {"retry_after": retry_after},
                        status=429,
                    )
                    response["Retry-After"] = str(retry_after)
                    return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
