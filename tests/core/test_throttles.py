"""Rate limits: the API per caller (user, site token, IP) and the sign-in, consent and beta pages
per address. Over the limit: 429, Retry-After, a sentence that says to wait, and nothing changed."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import SiteFactory, UserFactory
from upgrades import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_site_token_is_throttled_by_token_with_retry_after(settings):
    settings.API_THROTTLE_RATES = {"authenticated": "3/minute", "anonymous": "100/minute"}
    site, other = SiteFactory(), SiteFactory()
    _, raw = services.site_token_create(site=site)
    _, other_raw = services.site_token_create(site=other)
    client = APIClient()
    codes = [
        client.get(f"/api/v1/sites/{site.pk}/updates", HTTP_AUTHORIZATION=f"Site {raw}").status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    refused = client.get(f"/api/v1/sites/{site.pk}/updates", HTTP_AUTHORIZATION=f"Site {raw}")
    assert int(refused["Retry-After"]) >= 1
    assert "throttled" in refused.json()["detail"]
    # Another site's token (the same address) has its own bucket.
    assert client.get(f"/api/v1/sites/{other.pk}/updates", HTTP_AUTHORIZATION=f"Site {other_raw}").status_code == 200


@pytest.mark.parametrize("keyword", ["Token", "Site", "Mirror"])
def test_guessing_tokens_is_throttled_by_address_before_any_lookup(settings, keyword):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token-failures": "3/minute"}
    site = SiteFactory()
    _, raw = services.site_token_create(site=site)
    client = APIClient()
    path = f"/api/v1/sites/{site.pk}/updates" if keyword != "Mirror" else "/api/v1/mirror/listings"
    codes = [client.get(path, HTTP_AUTHORIZATION=f"{keyword} guess-{n}").status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]
    refused = client.get(path, HTTP_AUTHORIZATION=f"{keyword} guess-5")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    if keyword == "Site":  # even the right token waits: the address is blocked, not the token
        assert client.get(path, HTTP_AUTHORIZATION=f"Site {raw}").status_code == 429


def test_sign_in_is_rate_limited_per_address(settings):
    """allauth's limits: failed sign-ins per address, then sign-ins at all (429 with the portal's page)."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip", "login": "4/m/ip"}
    UserFactory(username="alice", password="right-password")
    client = Client()
    for _ in range(3):
        assert client.post("/accounts/login/", {"login": "alice", "password": "wrong"}).status_code == 200
    refused = client.post("/accounts/login/", {"login": "alice", "password": "right-password"})
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session  # even the right password did not sign in
    limited = client.post("/accounts/login/", {"login": "alice", "password": "right-password"})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert "too many times" in limited.content.decode()
    assert "_auth_user_id" not in client.session
    # The admin has no sign-in of its own to go around the limits: it sends people to the portal's.
    admin_login = client.get("/admin/login/?next=/admin/")
    assert admin_login.status_code == 302 and admin_login["Location"].startswith("/accounts/login/")


def test_consent_links_are_rate_limited_per_address(settings):
    settings.PAGE_RATE_LIMITS = {**settings.PAGE_RATE_LIMITS, "consent-link": "2/minute"}
    client = Client()
    codes = [client.get("/upgrades/consent/1/not-a-token/").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_the_window_slides_the_previous_minute_counting_by_what_is_left_of_it(settings, monkeypatch):
    """3/minute: three calls late in one minute still weigh on the next minute's start, and the
    wait announced is when enough of them have slid out (not a fixed-window reset)."""
    import core.throttles

    settings.API_THROTTLE_RATES = {"authenticated": "3/minute", "anonymous": "100/minute"}
    site = SiteFactory()
    _, raw = services.site_token_create(site=site)
    client = APIClient()
    clock = [6000.0 + 50]  # 50 s into a minute

    monkeypatch.setattr(core.throttles.time, "time", lambda: clock[0])

    def get():
        return client.get(f"/api/v1/sites/{site.pk}/updates", HTTP_AUTHORIZATION=f"Site {raw}")

    assert [get().status_code for _ in range(3)] == [200, 200, 200]
    assert get().status_code == 429
    clock[0] = 6060.0 + 10  # 10 s into the next minute: 3 x 50/60 = 2.5 still count
    assert get().status_code == 200
    refused = get()  # 2.5 + 1 >= 3
    assert refused.status_code == 429
    # Below 3 again once 3 x (1 - t/60) + 1 < 3, i.e. t > 20 s: 10 s from now.
    assert int(refused["Retry-After"]) == 10
    clock[0] = 6060.0 + 21
    assert get().status_code == 200


@pytest.mark.integration
def test_on_redis_the_counters_are_shared_plain_integers(settings):
    """The production cache (Redis): the throttle's MGET/INCR path counts what the generic path
    counts, with the same 429 and Retry-After, and the counters are what cache.get reads."""
    import os
    import uuid

    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # production's (config/settings/production.py)
            "LOCATION": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
            # Its own prefix and no clear(): FLUSHDB would empty the Redis database that the
            # integration tests' Celery broker may share. The counters expire within two minutes.
            "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
        }
    }
    settings.API_THROTTLE_RATES = {"authenticated": "3/minute", "anonymous": "100/minute"}
    site = SiteFactory()
    _, raw = services.site_token_create(site=site)
    client = APIClient()
    path = f"/api/v1/sites/{site.pk}/updates"
    codes = [client.get(path, HTTP_AUTHORIZATION=f"Site {raw}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get(path, HTTP_AUTHORIZATION=f"Site {raw}")
    assert int(refused["Retry-After"]) >= 1
    import time

    window = int(time.time() // 60)  # the three allowed calls, in this minute or the one before
    counted = [caches["default"].get(f"throttle_authenticated_site:{site.pk}:{w}") for w in (window - 1, window)]
    assert sum(n or 0 for n in counted) == 3
