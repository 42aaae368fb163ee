"""core.cache.RedisCache, the production cache: Django's Redis backend that keeps its clients."""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
            # Its own prefix and no clear(): FLUSHDB would empty the Redis database that the
            # integration tests' Celery broker may share. Every key here expires within 30 s.
            "KEY_PREFIX": f"core-cache-test-{uuid.uuid4().hex}",
        }
    }
    return caches["default"]


def test_it_is_djangos_cache_with_one_client_per_pool(redis_cache):
    client = redis_cache._cache.get_client(write=True)
    assert redis_cache._cache.get_client("any key", write=True) is client  # kept, not rebuilt
    redis_cache.set("answer", {"n": 42}, 30)
    assert redis_cache.get("answer") == {"n": 42}
    assert redis_cache.add("counter", 1, 30) and not redis_cache.add("counter", 5, 30)
    assert redis_cache.incr("counter") == 2
    assert redis_cache.get_many(["answer", "counter", "missing"]) == {"answer": {"n": 42}, "counter": 2}
    redis_cache.delete("answer")
    assert redis_cache.get("answer") is None
    assert client.ttl(redis_cache.make_and_validate_key("counter")) > 0
