"""REST API: the update check (pinned query count), installations, requests, rollouts."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import ListingFactory, UserFactory, VersionFactory
from tests.upgrades.world import make_world
from upgrades import services
from upgrades.models import Installation, Rollout, UpgradeRequest
from versions.models import Version

pytestmark = pytest.mark.django_db


def site_client(site) -> APIClient:
    _, raw = services.site_token_create(site=site, name="instance")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    return client


def test_update_check_lists_newest_version_and_consent(world):
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")
    VersionFactory(listing=world.listing, number="1.0.1", scopes=["read:jira-work"], state="superseded")
    VersionFactory(
        listing=world.listing, number="1.1.0", scopes=["read:jira-work", "write:jira-work"], state="published"
    )
    VersionFactory(listing=world.listing, number="1.2.0", state="approved")  # not released: never offered
    site = world.sites[0]
    response = site_client(site).get(f"/api/v1/sites/{site.pk}/updates")
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["installed"]["number"] == "1.0.0"
    update = item["update"]
    assert update["number"] == "1.1.0" and update["coordinates"] == f"{world.listing.key}@1.1.0"
    assert update["consent_required"] is True
    assert [r["scope"] for r in update["reasons"]] == ["write:jira-work"]


def test_update_check_offers_the_newest_compatible_version(world):
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")
    VersionFactory(listing=world.listing, number="1.0.1", state="superseded")
    VersionFactory(
        listing=world.listing, number="2.0.0", state="published", compatibility=[{"product": "jira", "min": "10.0"}]
    )
    site = world.sites[0]  # Jira 9.4.0
    update = site_client(site).get(f"/api/v1/sites/{site.pk}/updates").json()["items"][0]["update"]
    assert update["number"] == "1.0.1" and update["consent_required"] is False


def test_update_check_up_to_date(world):
    site = world.sites[0]
    data = site_client(site).get(f"/api/v1/sites/{site.pk}/updates").json()
    assert data["installations"] == 1 and data["updates_available"] == 0 and data["items"][0]["update"] is None


def _site_with_installations(count: int):
    world = make_world(sites=1)
    site = world.sites[0]
    for n in range(count):
        listing = ListingFactory(
            vendor=world.listing.vendor,
            scheme=["manual", "ocp", "connect"][n % 3],
            visibility="private" if n % 5 == 0 else "public",
        )
        old = VersionFactory(listing=listing, number="1.0.0", scopes=["read:jira-work"], state="superseded")
        VersionFactory(listing=listing, number="2.0.0", scopes=["read:jira-work", "admin"], state="published")
        services.installation_create(site=site, listing=listing, version=old)
        if n % 5 == 0:
            listing.allowed_sites.add(site)
    return site, site_client(site)


def test_update_check_query_count_does_not_grow_with_installations(db, catalogue, django_assert_max_num_queries):
    counts = {}
    for count in (2, 60):
        site, client = _site_with_installations(count)
        client.get(f"/api/v1/sites/{site.pk}/updates")  # warm the scope catalogue cache
        with django_assert_max_num_queries(3) as ctx:
            data = client.get(f"/api/v1/sites/{site.pk}/updates").json()
        assert data["installations"] == count + 1 and data["updates_available"] == count
        counts[count] = len(ctx.captured_queries)
    assert counts[2] == counts[60]


def test_site_token_only_reaches_its_own_site(world):
    client = site_client(world.sites[0])
    assert client.get(f"/api/v1/sites/{world.sites[1].pk}/updates").status_code == 404
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Site not-a-token")
    response = bad.get(f"/api/v1/sites/{world.sites[0].pk}/updates")
    assert response.status_code == 401 and "Unknown or revoked site token" in response.json()["detail"]
    assert APIClient().get(f"/api/v1/sites/{world.sites[0].pk}/updates").status_code == 401


def test_site_admin_user_uses_the_api(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    admin = world.admins[0].user
    client = APIClient()
    client.force_authenticate(admin)
    site = world.sites[0]
    assert client.get(f"/api/v1/sites/{site.pk}/updates").json()["items"][0]["update"]["request"]["state"] == "pending"
    assert client.get(f"/api/v1/sites/{world.sites[1].pk}/updates").status_code == 404
    listed = client.get("/api/v1/upgrade-requests").json()["results"]
    assert [r["site"] for r in listed] == [site.pk]
    assert client.get("/api/v1/upgrade-requests?state=bogus").status_code == 400
    response = client.post(f"/api/v1/upgrade-requests/{listed[0]['id']}/approve")
    assert response.status_code == 200 and response.json()["state"] == "approved"
    again = client.post(f"/api/v1/upgrade-requests/{listed[0]['id']}/approve")
    assert again.status_code == 409 and "already approved" in again.json()["state"][0]
    installations = client.get(f"/api/v1/sites/{site.pk}/installations").json()["results"]
    assert installations[0]["version"] == "1.1.0" and installations[0]["granted_scopes"] == [
        "read:jira-work",
        "write:jira-work",
    ]
    assert Installation.objects.get(site=site).version == v2


def test_stranger_cannot_decide_requests(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    request = UpgradeRequest.objects.first()
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.post(f"/api/v1/upgrade-requests/{request.pk}/reject").status_code == 404
    request.refresh_from_db()
    assert request.state == "pending"


def test_manual_upgrade_api(db, catalogue, django_capture_on_commit_callbacks):
    world = make_world(scheme="ocp", sites=1)
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("2.0.0")
    client = APIClient()
    client.force_authenticate(world.admins[0].user)
    installation = world.installations[0]
    response = client.post(f"/api/v1/sites/{world.sites[0].pk}/installations/{installation.pk}/upgrade")
    assert response.status_code == 200 and response.json()["version"] == "2.0.0"
    assert response.json()["state"] == "applied" and response.json()["hooks"] == []  # the app has no hooks
    again = client.post(f"/api/v1/sites/{world.sites[0].pk}/installations/{installation.pk}/upgrade")
    assert again.status_code == 400 and "newest version" in again.json()["installation"][0]


def test_vendor_rollouts_api(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    client = APIClient()
    client.force_authenticate(world.vendor_user)
    data = client.get(f"/api/v1/listings/{world.listing.key}/rollouts").json()
    assert data["rollouts"][0]["counts"]["awaiting_consent"] == 3
    assert data["adoption"] == [{"number": "1.0.0", "installations": 3, "percent": 100.0}]
    rollout = Rollout.objects.get(version=v2)
    response = client.post(f"/api/v1/rollouts/{rollout.pk}/halt")
    assert response.status_code == 409  # completed rollouts can't be halted
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get(f"/api/v1/listings/{world.listing.key}/rollouts").status_code == 404
    assert stranger.post(f"/api/v1/rollouts/{rollout.pk}/halt").status_code == 404


# --- private testing: a version's members (issue 10, item 5) -------------------------------------


def test_a_member_lists_and_installs_a_version_under_review(world):
    admin = world.admins[0]
    version = VersionFactory(listing=world.listing, number="2.0.0", state="approved", members=[admin.email])
    client = APIClient()
    client.force_authenticate(admin.user)
    listed = client.get("/api/v1/testing/versions").json()["results"]
    assert [(v["id"], v["state"], v["listing"]) for v in listed] == [(version.pk, "approved", world.listing.key)]
    r = client.post(f"/api/v1/testing/versions/{version.pk}/install", {"site": "x"}, format="json")
    assert r.status_code == 400 and "site" in r.json()
    r = client.post(f"/api/v1/testing/versions/{version.pk}/install", {"site": world.sites[0].pk}, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["version"], r.json()["site"]) == ("2.0.0", world.sites[0].pk)
    site = world.sites[0]
    (item,) = site_client(site).get(f"/api/v1/sites/{site.pk}/updates").json()["items"]
    assert item["installed"] == {"number": "2.0.0", "build_number": version.build_number, "under_test": True}


def test_a_non_member_gets_404_and_a_site_token_is_refused(world):
    version = VersionFactory(listing=world.listing, number="2.0.0", state="in_review", members=["qa@example.com"])
    client = APIClient()
    client.force_authenticate(world.admins[0].user)
    assert client.get("/api/v1/testing/versions").json()["results"] == []
    r = client.post(f"/api/v1/testing/versions/{version.pk}/install", {"site": world.sites[0].pk}, format="json")
    assert r.status_code == 404
    r = site_client(world.sites[0]).post(
        f"/api/v1/testing/versions/{version.pk}/install", {"site": world.sites[0].pk}, format="json"
    )
    assert r.status_code in (401, 403)
    assert Installation.objects.get(pk=world.installations[0].pk).version == world.v1
