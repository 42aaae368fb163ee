"""The portal's Redis cache backend: Django's, keeping its redis-py client objects.

Django's Redis cache builds a new `redis.Redis` on every operation (its connection pools are
kept); redis-py's constructor fills a table of some 170 response callbacks each time, which
costs more than the round trip to Redis itself (about 120 us of a 35 us operation). The cache
counts every API request's rate limit and holds the scope catalogue, so the update check paid
that three to four times per request. This backend keeps one client per connection pool
(clients are thread-safe: each operation takes a connection from the pool). Configured by
config/settings/production.py for CACHE_URL (or the broker's Redis).
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _KeptClients(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:  # as Django's _get_connection_pool, for this index
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClients
