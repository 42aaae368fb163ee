"""Fixtures for the upgrades tests: a listing with a published version installed on sites."""

from __future__ import annotations

import pytest

from tests.factories import HostProductFactory, ScopeFactory
from tests.upgrades.world import make_world


@pytest.fixture
def catalogue(db):
    for name, level in [("read:jira-work", 1), ("write:jira-work", 2), ("delete:jira-work", 3), ("admin", 4)]:
        ScopeFactory(name=name, sensitivity=level)
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def world(db, catalogue):
    return make_world()


@pytest.fixture
def products(db):
    """Stash and Bitbucket Server (the product migration tests move sites between them)."""
    return HostProductFactory(key="stash", name="Stash"), HostProductFactory(
        key="bitbucket-server", name="Bitbucket Server"
    )
