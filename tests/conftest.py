"""Shared fixtures. Tests that touch the database are marked `database` so that
`make test` runs them a second time on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http_servers import AppServer, DescriptorServer, app_server_running, descriptor_server_running

DB_FIXTURES = {"db", "transactional_db", "live_server", "django_user_model", "admin_client", "admin_user"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("django_db") or DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)


@pytest.fixture
def vendor_user(db):
    from tests.factories import MembershipFactory

    return MembershipFactory(role="owner").user


@pytest.fixture
def reviewer(db):
    from tests.factories import ReviewerFactory

    return ReviewerFactory()


@pytest.fixture
def listing(vendor_user):
    from tests.factories import ListingFactory

    return ListingFactory(vendor=vendor_user.vendor_memberships.get().vendor)


@pytest.fixture
def descriptor_server() -> Iterator[DescriptorServer]:
    """A real HTTP server on 127.0.0.1 answering as vendors' servers (and an upstream portal) do."""
    with descriptor_server_running() as server:
        yield server


@pytest.fixture
def app_server() -> Iterator[AppServer]:
    """A real HTTP server on 127.0.0.1 playing a vendor's app: verifies every JWT and webhook signature."""
    with app_server_running() as server:
        yield server
