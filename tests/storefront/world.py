"""The storefront tests' world: a catalogue of published listings, a site admin with a Jira
site and a Confluence site, and another customer's site."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.services import listing_search_refresh
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    ScopeFactory,
    SiteAdminFactory,
    SiteFactory,
    UserFactory,
    VersionFactory,
)


@dataclass
class Store:
    jira: object
    confluence: object
    admin: object
    jira_site: object
    confluence_site: object
    other_site: object
    timesheets: object
    wiki: object


def publish(listing, number: str = "1.0.0", **kwargs):
    kwargs.setdefault("scopes", ["read:jira-work"])
    kwargs.setdefault("channel", "release")
    kwargs.setdefault("pricing", listing.pricing)
    return VersionFactory(listing=listing, number=number, state="published", **kwargs)


def store_listing(name: str, *, products=(), key: str | None = None, **kwargs):
    listing = ListingFactory(name=name, key=key or name.lower().replace(" ", "-"), **kwargs)
    listing.host_products.set(products)
    return listing


def make_store() -> Store:
    ScopeFactory(name="read:jira-work", sensitivity=1, description="Read issues, projects and comments")
    ScopeFactory(name="write:jira-work", sensitivity=2, description="Create and edit issues and worklogs")
    jira = HostProductFactory(key="jira", name="Jira")
    confluence = HostProductFactory(key="confluence", name="Confluence")
    admin = UserFactory(username="store-admin", email="admin@customer.example.com")
    jira_site = SiteFactory(name="Customer Jira", host_product=jira, host_version="9.4.0")
    confluence_site = SiteFactory(name="Customer Wiki", host_product=confluence, host_version="8.5.0")
    for site in (jira_site, confluence_site):
        SiteAdminFactory(site=site, user=admin)
    other_site = SiteFactory(name="Someone Else's Jira", host_product=jira)
    SiteAdminFactory(site=other_site, user=UserFactory())
    timesheets = store_listing(
        "Timesheets Pro",
        products=[jira],
        summary="Log work on issues",
        description="Track **time** on issues.",
    )
    publish(timesheets, scopes=["read:jira-work", "write:jira-work"], compatibility=[{"product": "jira", "min": "9.0"}])
    wiki = store_listing("Wiki Glossary", products=[confluence], summary="Definitions on hover")
    publish(wiki, scopes=[])
    listing_search_refresh()
    return Store(jira, confluence, admin, jira_site, confluence_site, other_site, timesheets, wiki)


def many_listings(count: int, *, product) -> None:
    """`count` more published listings, in bulk (for query-count tests)."""
    for n in range(count):
        listing = store_listing(f"Bulk App {n:04d}", key=f"bulk-app-{n:04d}", products=[product])
        publish(listing)
    listing_search_refresh()
