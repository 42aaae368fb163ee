"""Issue #16 on PostgreSQL with real connections: two beat runs at once publish a scheduled
version exactly once (SELECT ... FOR UPDATE SKIP LOCKED, then a re-check), and make one
digest per admin and day (the unique constraint)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.concurrency import race
from tests.factories import ListingFactory, MembershipFactory, VersionFactory, verified
from tests.upgrades.world import make_world
from upgrades.models import SiteAdmin, Upgrade, UpgradeDigest
from upgrades.services.notifications import upgrade_digests_make
from versions import services
from versions.models import Version, VersionTransition
from versions.services.releases import versions_publish_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_beat_runs_publish_a_scheduled_version_once():
    assert connection.vendor == "postgresql"
    owner = MembershipFactory(role="owner")
    verified(owner.user)
    listing = ListingFactory(vendor=owner.vendor)
    VersionFactory(listing=listing, number="1.0.0", state="published")
    approved = VersionFactory(listing=listing, number="1.1.0", state="approved")
    at = timezone.now() + timedelta(minutes=5)
    services.version_schedule_publish(version=approved, actor=owner.user, publish_at=at)

    results = race(lambda _: versions_publish_due(now=at + timedelta(seconds=1)), [1, 2, 3])

    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(len(r) for _, r in results) == [0, 0, 1]
    assert Version.objects.get(pk=approved.pk).state == "published"
    assert VersionTransition.objects.filter(version=approved, name="publish").count() == 1
    assert Version.objects.filter(listing=listing, state="published").count() == 1


def test_two_digest_runs_make_one_digest_per_admin_and_day():
    assert connection.vendor == "postgresql"
    world = make_world(sites=1, admins_per_site=2)
    SiteAdmin.objects.update(applied_upgrades="digest")
    now = timezone.now()
    to = VersionFactory(listing=world.listing, number="1.0.1", state="superseded")
    Upgrade.objects.create(
        installation=world.installations[0],
        from_version=world.v1,
        to_version=to,
        state="applied",
        due_at=now - timedelta(hours=1),
        applied_at=now - timedelta(hours=1),
    )

    results = race(lambda _: upgrade_digests_make(now=now), [1, 2])

    assert all(kind == "ok" for kind, _ in results), results
    assert UpgradeDigest.objects.count() == 2  # one per admin
    assert sum(len(r) for _, r in results) == 2
