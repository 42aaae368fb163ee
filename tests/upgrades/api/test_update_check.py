"""The update check's contract on its hot path: a fixed number of queries at every size, the
same JSON as the serializer documents, and ETag/If-None-Match answered 304 after one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.models import Listing
from tests.factories import ListingFactory, VersionFactory
from tests.upgrades.world import make_world
from upgrades import selectors, services
from upgrades.models import Installation, Upgrade, UpgradeRequest
from upgrades.serializers import SiteUpdatesSerializer
from versions.models import Version
from versions.numbers import parse_version, version_sort_key

pytestmark = pytest.mark.django_db


def site_client(site) -> APIClient:
    _, raw = services.site_token_create(site=site, name="instance")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    return client


def _bulk_installations(world, count: int) -> None:
    """`count` more listings installed on the world's first site, each with a newer release; bulk
    inserts (1,000 through the services would take minutes). Every fifth listing is private with
    the site allowed, schemes alternate (consent needed for some, not for others)."""
    site = world.sites[0]
    listings = Listing.objects.bulk_create(
        Listing(
            key=f"bulk-{n:05d}",
            name=f"Bulk {n}",
            vendor=world.listing.vendor,
            scheme=["manual", "ocp", "connect"][n % 3],
            visibility="private" if n % 5 == 0 else "public",
        )
        for n in range(count)
    )
    site.private_listings.add(*[listing for n, listing in enumerate(listings) if n % 5 == 0])

    def version(listing, number, state, scopes):
        return Version(
            listing=listing,
            number=number,
            sort_key=version_sort_key(parse_version(number)),
            build_number=1 if number == "1.0.0" else 2,
            update_notes="Notes.",
            scopes=scopes,
            state=state,
        )

    old = Version.objects.bulk_create(
        version(listing, "1.0.0", "superseded", ["read:jira-work"]) for listing in listings
    )
    Version.objects.bulk_create(
        version(listing, "2.0.0", "published", ["read:jira-work", "admin"] if n % 2 else ["read:jira-work"])
        for n, listing in enumerate(listings)
    )
    Installation.objects.bulk_create(
        Installation(site=site, listing=listing, version=v, granted_scopes=["read:jira-work"])
        for listing, v in zip(listings, old, strict=True)
    )


@pytest.mark.parametrize("extra", [0, 9, 999])  # 1, 10 and 1,000 installations
def test_update_check_costs_two_queries_at_every_size(catalogue, django_assert_max_num_queries, extra):
    world = make_world(sites=1)
    _bulk_installations(world, extra)
    site = world.sites[0]
    client = site_client(site)
    assert client.get(f"/api/v1/sites/{site.pk}/updates").status_code == 200  # warms the scope catalogue
    with django_assert_max_num_queries(3) as ctx:  # token (+ fingerprint); installations with their candidates
        response = client.get(f"/api/v1/sites/{site.pk}/updates")
    assert response.status_code == 200, response.content[:300]
    data = response.json()
    assert data["installations"] == extra + 1 and data["updates_available"] == extra
    assert len(ctx.captured_queries) == 2  # the same at every size
    if extra:
        private = next(i for i in data["items"] if i["listing"] == "bulk-00000")
        assert private["update"]["number"] == "2.0.0"  # the allowed private listing is offered


def test_the_answer_is_the_documented_serializer_shape(world, django_capture_on_commit_callbacks):
    """orjson renders the selector's dict: it must be exactly what SiteUpdatesSerializer would give."""
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])  # opens consent requests
    site = world.sites[0]
    other = ListingFactory(vendor=world.listing.vendor, scheme="manual")
    v1 = VersionFactory(listing=other, number="1.0.0", state="superseded")
    v2 = VersionFactory(listing=other, number="1.0.1", state="published")
    installation = services.installation_create(site=site, listing=other, version=v1)
    Upgrade.objects.create(installation=installation, from_version=v1, to_version=v2, due_at=timezone.now())
    data = site_client(site).get(f"/api/v1/sites/{site.pk}/updates").json()
    expected = SiteUpdatesSerializer(selectors.site_updates(site=site)).data
    data.pop("checked_at"), expected.pop("checked_at")
    assert data == expected
    by_listing = {i["listing"]: i["update"] for i in data["items"]}
    assert by_listing[world.listing.key]["request"]["state"] == "pending"
    assert by_listing[world.listing.key]["reasons"][0]["scope"] == "write:jira-work"
    assert by_listing[other.key]["scheduled_at"].endswith("Z")


def test_unchanged_answer_is_304_after_one_query(world, django_assert_max_num_queries, settings):
    settings.UPDATE_CHECK_MAX_AGE = 1800
    site = world.sites[0]
    client = site_client(site)
    url = f"/api/v1/sites/{site.pk}/updates"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and len(etag) > 10
    assert first.headers["Cache-Control"] == "private, max-age=1800"
    with django_assert_max_num_queries(1):
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "private, max-age=1800"
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def _etag(client, site) -> str:
    response = client.get(f"/api/v1/sites/{site.pk}/updates")
    assert response.status_code == 200
    return response.headers["ETag"]


def test_etag_changes_when_an_installation_changes(world):
    site = world.sites[0]
    client = site_client(site)
    before = _etag(client, site)
    assert _etag(client, site) == before  # stable while nothing changes
    installation = world.installations[0]
    installation.granted_scopes = ["read:jira-work", "write:jira-work"]
    installation.save()
    assert _etag(client, site) != before


def test_etag_changes_when_a_version_is_released(world):
    site = world.sites[0]
    client = site_client(site)
    before = _etag(client, site)
    VersionFactory(listing=world.listing, number="1.0.1", state="approved")  # not released: same answer
    assert _etag(client, site) == before
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")  # what version_publish does
    assert _etag(client, site) == before  # superseded is still released: nothing new to offer
    Version.objects.filter(listing=world.listing, number="1.0.1").update(state="published", updated_at=timezone.now())
    after = _etag(client, site)
    assert after != before
    data = client.get(f"/api/v1/sites/{site.pk}/updates", HTTP_IF_NONE_MATCH=before).json()
    assert data["items"][0]["update"]["number"] == "1.0.1"


def test_etag_changes_when_a_request_is_opened_or_an_upgrade_scheduled(world):
    site = world.sites[0]
    client = site_client(site)
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")
    v2 = VersionFactory(listing=world.listing, number="1.1.0", state="published")
    installation = world.installations[0]
    before = _etag(client, site)
    UpgradeRequest.objects.create(installation=installation, from_version=world.v1, to_version=v2, reasons=[])
    with_request = _etag(client, site)
    assert with_request != before
    Upgrade.objects.create(
        installation=installation, from_version=world.v1, to_version=v2, due_at=timezone.now() + timedelta(hours=1)
    )
    assert _etag(client, site) not in (before, with_request)


def test_etag_changes_when_the_site_changes_and_a_revoked_token_gets_no_304(world):
    site = world.sites[0]
    token, raw = services.site_token_create(site=site, name="instance")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    before = _etag(client, site)
    site.auto_update = False
    site.save()
    assert _etag(client, site) != before
    token.revoke()
    response = client.get(f"/api/v1/sites/{site.pk}/updates", HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 401


def test_a_site_admin_gets_the_same_etag_and_304(world):
    site = world.sites[0]
    etag = _etag(site_client(site), site)
    client = APIClient()
    client.force_authenticate(world.admins[0].user)
    response = client.get(f"/api/v1/sites/{site.pk}/updates")
    assert response.status_code == 200 and response.headers["ETag"] == etag
    assert client.get(f"/api/v1/sites/{site.pk}/updates", HTTP_IF_NONE_MATCH=etag).status_code == 304


def _new_scope_published(world, capture) -> tuple[APIClient, str]:
    """1.1.0 asks for write:jira-work (the world's sites granted read:jira-work only): the first
    site's client and its update-check URL."""
    with capture(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    site = world.sites[0]
    return site_client(site), f"/api/v1/sites/{site.pk}/updates"


def test_a_new_scope_sensitivity_reaches_the_reasons_and_the_etag(world, django_capture_on_commit_callbacks):
    """The consent rules' answers are remembered per process for one scope catalogue: a
    sensitivity changed in the catalogue must change the reason (and the ETag), and two
    installations with different grants get their own answers."""
    from marketplace.models import Scope

    client, url = _new_scope_published(world, django_capture_on_commit_callbacks)
    first = client.get(url)
    [reason] = first.json()["items"][0]["update"]["reasons"]
    assert (reason["scope"], reason["sensitivity"]) == ("write:jira-work", "write")
    scope = Scope.objects.get(name="write:jira-work")
    scope.sensitivity = 4
    scope.save()
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]
    [reason] = second.json()["items"][0]["update"]["reasons"]
    assert reason["sensitivity"] == "admin" and "(admin)" in reason["text"]
    # Another site whose admins already granted the scope: the same move, no reason.
    installation = world.installations[1]
    installation.granted_scopes = ["read:jira-work", "write:jira-work"]
    installation.save()
    other = site_client(installation.site).get(f"/api/v1/sites/{installation.site_id}/updates").json()
    assert other["items"][0]["update"]["reasons"] == []


def test_without_prepared_statements_the_answer_is_the_same(world, settings, django_capture_on_commit_callbacks):
    """DATABASE_PREPARED_STATEMENTS=off (behind a pooler that cannot keep them): the same answer,
    JSON columns decoded all the same, and the same two queries."""
    client, url = _new_scope_published(world, django_capture_on_commit_callbacks)
    prepared = client.get(url).json()
    settings.DATABASE_PREPARED_STATEMENTS = False
    plain = client.get(url).json()
    prepared.pop("checked_at"), plain.pop("checked_at")
    assert plain == prepared
    assert plain["items"][0]["update"]["reasons"][0]["scope"] == "write:jira-work"


def test_a_bulk_sensitivity_change_reaches_the_answer_without_signals(world, django_capture_on_commit_callbacks):
    """A queryset update() sends no signal (the shared cache of the catalogue is not told) and
    leaves updated_at alone; the catalogue's stamp still moves (sum of sensitivities), so the
    ETag changes and the reasons name the new sensitivity."""
    from marketplace.models import Scope

    client, url = _new_scope_published(world, django_capture_on_commit_callbacks)
    first = client.get(url)
    assert first.json()["items"][0]["update"]["reasons"][0]["sensitivity"] == "write"
    Scope.objects.filter(name="write:jira-work").update(sensitivity=3)
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]
    assert second.json()["items"][0]["update"]["reasons"][0]["sensitivity"] == "delete"
