"""Celery tasks for the internal market. Names route by pattern: `*.poll_*` to the polling queue."""

from __future__ import annotations

import logging

from celery import shared_task

from mirror.models import MirrorSync

logger = logging.getLogger(__name__)


@shared_task(name="mirror.tasks.poll_mirror_sources", ignore_result=True)
def poll_mirror_sources() -> int:
    """Beat: one sync task per enabled source (each runs on its own, so one slow upstream holds up no other)."""
    from mirror.selectors import mirror_sources_due
    from mirror.services import mirror_sync_prune

    mirror_sync_prune()
    ids = list(mirror_sources_due().values_list("pk", flat=True))
    for source_id in ids:
        poll_mirror_source.delay(source_id)
    return len(ids)


@shared_task(name="mirror.tasks.poll_mirror_source", ignore_result=True, soft_time_limit=240, time_limit=280)
def poll_mirror_source(source_id: int, trigger: str = MirrorSync.Trigger.SCHEDULE) -> int | None:
    """Sync one source; upstream problems are recorded on the sync, never raised (the next tick retries)."""
    from mirror.models import MirrorSource
    from mirror.services import mirror_sync

    source = MirrorSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return None  # deleted or disabled since it was queued
    sync = mirror_sync(source=source, trigger=trigger)
    logger.info("mirror sync of %s: %s", source, sync.summary)
    return sync.pk
