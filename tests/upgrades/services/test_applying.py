"""Applying scheduled upgrades: once, in the site's maintenance window, in a fixed
number of queries, and failing with the reason when the installation can't take it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import VersionFactory
from tests.upgrades.world import make_world, publish
from upgrades import services
from upgrades.models import Installation, Rollout, Upgrade

pytestmark = pytest.mark.django_db


def test_applying_twice_changes_nothing_the_second_time(world):
    v2 = VersionFactory(listing=world.listing, number="1.0.1", scopes=["read:jira-work"], state="superseded")
    installation = world.installations[0]
    upgrade = Upgrade.objects.create(
        installation=installation, from_version=world.v1, to_version=v2, due_at=timezone.now()
    )
    first = services.upgrade_apply(upgrade_id=upgrade.pk)
    applied_at = first.applied_at
    assert first.state == "applied"
    installation.refresh_from_db()
    assert installation.version == v2 and installation.granted_scopes == ["read:jira-work"]
    Installation.objects.filter(pk=installation.pk).update(granted_scopes=["changed"])
    second = services.upgrade_apply(upgrade_id=upgrade.pk)
    assert second.applied_at == applied_at
    installation.refresh_from_db()
    assert installation.granted_scopes == ["changed"]  # untouched by the second run
    assert services.upgrades_apply_due() == 0


def test_apply_due_query_count_does_not_grow(db, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for sites in (2, 30):
        world = make_world(sites=sites)
        v2 = VersionFactory(listing=world.listing, number="1.0.1", state="superseded")
        Upgrade.objects.bulk_create(
            Upgrade(installation=i, from_version=world.v1, to_version=v2, due_at=timezone.now())
            for i in world.installations
        )
        with CaptureQueriesContext(connection) as ctx:
            assert services.upgrades_apply_due() == sites
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_maintenance_window_delays_the_upgrade(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    site = world.sites[0]
    start = (now - timedelta(minutes=30)).astimezone(timezone.get_fixed_timezone(0))
    end = now + timedelta(hours=1)
    site.maintenance_windows = [
        {"weekday": start.weekday(), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    ]
    site.save()
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    waiting = Upgrade.objects.get(installation__site=site, to_version=v2)
    assert waiting.state == "scheduled"
    assert end - timedelta(minutes=2) < waiting.due_at <= end
    assert Upgrade.objects.filter(to_version=v2, state="applied").count() == 2
    assert services.upgrades_apply_due(now=end + timedelta(minutes=1)) == 1
    waiting.refresh_from_db()
    assert waiting.state == "applied"


def test_upgrade_of_a_deactivated_installation_fails_with_the_reason(
    world, django_capture_on_commit_callbacks, settings
):
    from upgrades.selectors import rollout_progress

    settings.UPGRADE_AUTO_WINDOW = timedelta(hours=1)
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    Installation.objects.filter(pk=world.installations[0].pk).update(state="deactivated")
    assert services.upgrades_apply_due(now=timezone.now() + timedelta(hours=2)) == 2
    failed = Upgrade.objects.get(installation=world.installations[0])
    assert failed.state == "failed" and "deactivated" in failed.outcome
    assert Installation.objects.get(pk=world.installations[0].pk).version == world.v1
    progress = rollout_progress(Rollout.objects.get(version=v2))
    assert (progress["applied"], progress["failed"], progress["total"]) == (2, 1, 3)


def test_one_apply_task_goes_on_batch_after_batch_until_nothing_is_due(catalogue, settings):
    settings.UPGRADE_APPLY_BATCH_SIZE = 2
    world = make_world(sites=5)
    v2 = VersionFactory(listing=world.listing, number="1.0.1", state="superseded")
    Upgrade.objects.bulk_create(
        Upgrade(installation=i, from_version=world.v1, to_version=v2, due_at=timezone.now())
        for i in world.installations
    )
    assert services.upgrades_apply_due_for(budget_seconds=0) == (0, True)  # no time: hands over at once
    assert services.upgrades_apply_due_for(budget_seconds=60) == (5, False)  # three batches of at most 2
    assert Installation.objects.filter(version=v2).count() == 5
    assert services.upgrades_apply_due_for(budget_seconds=60) == (0, False)
