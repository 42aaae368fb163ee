"""Search: PostgreSQL's full-text search (prefixes, ranking) and SQLite's fallback give the
same page; the ranking is PostgreSQL's (run again there by `make test`)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from storefront.filters import CatalogueFilter, search_words
from storefront.selectors import catalogue_listings
from tests.storefront.world import publish, store_listing

pytestmark = pytest.mark.django_db


def search(**params) -> list[str]:
    filterset = CatalogueFilter(params, queryset=catalogue_listings(user=AnonymousUser()))
    assert filterset.is_valid(), filterset.errors
    return [listing.name for listing in filterset.sorted_results()]


def test_search_words_drop_punctuation_and_query_operators():
    assert search_words("time & !(track):* | 'x'") == ["time", "track", "x"]
    assert len(search_words("a " * 50)) == 8


def test_prefixes_match_and_name_matches_rank_first_on_postgresql(store):
    in_description = store_listing("Alpha Tool", description="Exports reports for managers.")
    publish(in_description)
    in_name = store_listing("Zeta Reports", summary="Charts")
    publish(in_name)
    from marketplace.services import listing_search_refresh

    listing_search_refresh()
    results = search(q="repo")
    assert set(results) == {"Alpha Tool", "Zeta Reports"}
    if connection.vendor == "postgresql":
        assert results == ["Zeta Reports", "Alpha Tool"]  # the name weighs more than the description
    else:
        assert results == ["Alpha Tool", "Zeta Reports"]  # no ranking on SQLite: by name
    assert search(q="time") == ["Timesheets Pro"]
    assert search(q="repo zzz") == []
    assert search(q="!!! ***") == ["Alpha Tool", "Timesheets Pro", "Wiki Glossary", "Zeta Reports"]


def test_sorts_by_name_newest_and_most_installed(store):
    assert search(sort="name") == ["Timesheets Pro", "Wiki Glossary"]
    assert search(sort="newest")[0] in {"Timesheets Pro", "Wiki Glossary"}
    from tests.factories import SiteFactory
    from upgrades.models import Installation

    for _ in range(2):
        site = SiteFactory(host_product=store.confluence)
        Installation.objects.create(site=site, listing=store.wiki, version=store.wiki.versions.get())
    assert search(sort="installs") == ["Wiki Glossary", "Timesheets Pro"]


def test_every_word_is_a_prefix_and_all_words_must_match(store):
    publish(store_listing("Sprint Poker", summary="Estimation for teams", description="Plan ahead."))
    publish(store_listing("Sprint Board", summary="Boards", description="Columns."))
    from marketplace.services import listing_search_refresh

    listing_search_refresh()
    assert search(q="spri") == ["Sprint Board", "Sprint Poker"]  # equal ranks: by name
    assert search(q="spr esti") == ["Sprint Poker"]  # both prefixes, each in a different field
    assert search(q="Estimation") == ["Sprint Poker"]  # a whole word is its own prefix, any case
    assert search(q="spri", sort="name") == ["Sprint Board", "Sprint Poker"]


def test_ranking_puts_the_name_before_the_summary_before_the_description(store):
    for name, summary, description in (
        ("Alpha", "", "Gantt charts in the description."),
        ("Beta", "Gantt charts in the summary", ""),
        ("Gamma Gantt", "", ""),
    ):
        publish(store_listing(name, summary=summary, description=description))
    from marketplace.services import listing_search_refresh

    listing_search_refresh()
    results = search(q="gant")
    if connection.vendor == "postgresql":
        assert results == ["Gamma Gantt", "Beta", "Alpha"]  # weights A, B, C: best first
    else:
        assert results == ["Alpha", "Beta", "Gamma Gantt"]  # no ranking on SQLite: by name


def test_a_yanked_live_version_takes_the_app_out_of_search_until_unyanked(store):
    from tests.factories import UserFactory
    from versions.services.yanks import version_unyank, version_yank

    staff = UserFactory(is_staff=True)
    live = store.timesheets.versions.get()
    version_yank(version=live, actor=staff, reason="Loses worklogs.")
    assert search(q="time") == []
    assert search() == ["Wiki Glossary"]  # browsing too: the same selector
    version_unyank(version=live, actor=staff)
    assert search(q="time") == ["Timesheets Pro"]
