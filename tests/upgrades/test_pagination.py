"""Lists that can grow page instead of being cut off (the site admin's "waiting for approval"
list used to stop silently at 50)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import SiteAdminFactory, SiteFactory, UserFactory, VersionFactory
from tests.upgrades.world import make_world
from upgrades.models import Rollout, UpgradeRequest

pytestmark = pytest.mark.django_db


def test_site_list_pages_through_every_site(catalogue):
    user = UserFactory()
    sites = [SiteFactory(name=f"Site {i:02d}") for i in range(21)]
    for site in sites:
        SiteAdminFactory(site=site, user=user)
    client = Client()
    client.force_login(user)
    first = client.get("/upgrades/").content.decode()
    assert "Site 19" in first and "Site 20" not in first and "Page 1 of 2" in first
    second = client.get("/upgrades/?page=2").content.decode()
    assert "Site 20" in second and "Site 00" not in second


def test_waiting_for_approval_pages_instead_of_stopping_at_fifty(catalogue, django_capture_on_commit_callbacks):
    """21 requests on sites the staff member may see: the first page shows 20 and says there is more."""
    world = make_world(sites=21)
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    assert UpgradeRequest.objects.filter(state="pending").count() == 21
    staff = UserFactory(is_staff=True)
    client = Client()
    client.force_login(staff)
    html = client.get("/upgrades/").content.decode()
    assert html.count('href="/upgrades/requests/') == 20
    assert 'href="?pending_page=2"' in html
    assert client.get("/upgrades/?pending_page=2").content.decode().count('href="/upgrades/requests/') == 1


def test_rollouts_page_pages_through_every_rollout(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0")
    older = [VersionFactory(listing=world.listing, number=f"0.{i}.0", state="draft") for i in range(10)]
    Rollout.objects.bulk_create([Rollout(listing=world.listing, version=v, state="superseded") for v in older])
    client = Client()
    client.force_login(world.vendor_user)
    html = client.get(f"/upgrades/listings/{world.listing.key}/rollouts/").content.decode()
    assert html.count('class="rollout"') == 10 and "Page 1 of 2" in html
    assert (
        client.get(f"/upgrades/listings/{world.listing.key}/rollouts/?page=2").content.decode().count('class="rollout"')
        == 1
    )
