"""Which mirror sources the beat syncs: failing upstreams back off instead of being hit every tick."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mirror.models import MirrorSource
from mirror.selectors import mirror_retry_delay, mirror_sources_due

HOUR = timedelta(hours=1)


def test_retry_delay_doubles_per_failure_up_to_a_day():
    assert mirror_retry_delay(failure_streak=0, interval=HOUR) == HOUR
    assert mirror_retry_delay(failure_streak=1, interval=HOUR) == HOUR
    assert mirror_retry_delay(failure_streak=3, interval=HOUR) == 4 * HOUR
    assert mirror_retry_delay(failure_streak=30, interval=HOUR) == timedelta(hours=24)


@pytest.mark.django_db
def test_failing_sources_wait_longer_healthy_and_new_ones_are_due(settings):
    settings.MIRROR_SYNC_INTERVAL = HOUR
    now = timezone.now()

    def source(name, **fields):
        return MirrorSource.objects.create(name=name, base_url=f"https://{name}.example.com", token="t", **fields)

    healthy = source("healthy", last_synced_at=now - HOUR)
    new = source("new")
    failing_recent = source("recent", failure_streak=3, last_synced_at=now - 2 * HOUR)
    failing_old = source("old", failure_streak=3, last_synced_at=now - 5 * HOUR)
    source("off", enabled=False)
    assert set(mirror_sources_due(now=now)) == {healthy, new, failing_old}
    assert failing_recent not in mirror_sources_due(now=now + 2 * HOUR - timedelta(minutes=10))
    assert failing_recent in mirror_sources_due(now=now + 2 * HOUR)


@pytest.mark.django_db
def test_a_sync_left_running_by_a_stopped_worker_is_closed_by_the_housekeeping():
    from mirror.models import MirrorSync
    from mirror.services import mirror_sync_prune

    source = MirrorSource.objects.create(name="up", base_url="https://up.example.com", token="t")
    stale = MirrorSync.objects.create(source=source)
    fresh = MirrorSync.objects.create(source=source)
    MirrorSync.objects.filter(pk=stale.pk).update(started_at=timezone.now() - timedelta(hours=1))
    mirror_sync_prune()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.outcome == "failed" and "Interrupted" in stale.error and stale.finished_at is not None
    assert fresh.outcome == "running"
