"""The storefront's GIN index on PostgreSQL: no pending list (marketplace 0010), reversibly."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("marketplace", "0009_merge_vendor_invitations")
AFTER = ("marketplace", "0010_search_index_fastupdate_off")


def _index_options() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'listing_search_vector_gin'")
        (options,) = cursor.fetchone()
    return options or []


def _pending_pages() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('listing_search_vector_gin'::regclass)")
        return cursor.fetchone()[0]


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def test_search_index_writes_go_straight_into_the_index_and_the_migration_reverses():
    from marketplace.services import listing_search_refresh
    from tests.factories import ListingFactory

    assert connection.vendor == "postgresql"
    assert _index_options() == ["fastupdate=off"]
    try:
        _migrate(BEFORE)
        assert _index_options() == []  # GIN's default again: a pending list
        ListingFactory.create_batch(40, description="time tracking " * 20)
        listing_search_refresh()
        assert _pending_pages() > 0  # the refresh waited in the pending list (and was merged just now)
        listing_search_refresh()  # and waits there again
        _migrate(AFTER)  # on an existing database: turns the list off and merges what waits in it
        assert _index_options() == ["fastupdate=off"]
        assert _pending_pages() == 0
        listing_search_refresh()
        assert _pending_pages() == 0  # new documents skip the list
    finally:
        _migrate(AFTER)
