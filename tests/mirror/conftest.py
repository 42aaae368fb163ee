"""Fixtures for the internal market: an upstream catalogue with a mirror token (built in
tests/mirror/upstream.py), and mirror sources pointed at the real HTTP server."""

from __future__ import annotations

import pytest

from mirror.models import MirrorSource
from tests.http_servers import DescriptorServer
from tests.mirror.upstream import make_upstream


@pytest.fixture
def upstream(db, settings):
    settings.MIRROR_FEED_PAGE_SIZE = 100
    return make_upstream()


@pytest.fixture
def source_for(db):
    def make(server: DescriptorServer, token: str, **kwargs) -> MirrorSource:
        return MirrorSource.objects.create(base_url=server.url(""), token=token, **kwargs)

    return make
