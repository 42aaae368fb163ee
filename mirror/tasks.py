"""Celery tasks for the internal market. Names route by pattern: `*.poll_*` to the polling queue.

Retries and time limits: core.tasks.PortalTask. The services enqueue these task
objects, so each task imports its service inside (a module-level import would
be a cycle).
"""

from __future__ import annotations

import logging

from celery import shared_task

from core.tasks import PortalTask
from mirror.models import MirrorSync

logger = logging.getLogger(__name__)


@shared_task(base=PortalTask, name="mirror.tasks.poll_mirror_sources")
def poll_mirror_sources() -> int:
    """Beat: one sync task per due source."""
    from mirror.services import mirror_syncs_enqueue_due

    return mirror_syncs_enqueue_due()


@shared_task(base=PortalTask, name="mirror.tasks.poll_mirror_source")
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
