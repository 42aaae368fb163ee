"""Celery tasks for automatic versions: the polling fan-out, one poll, and the vendor e-mails.

Names route by pattern (settings.CELERY_TASK_ROUTES): `*.poll_*` to the polling
queue, `*.send_*` to the e-mail queue. Tasks take ids, re-fetch, return quietly
when there is nothing (left) to do, and call one service; retries and time
limits are core.tasks.PortalTask's. The services enqueue these task objects
after commit, so each task imports its service inside (a module-level import
would be a cycle). The e-mails are built in versions/emails.py.
"""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from core.tasks import PortalTask
from versions import emails
from versions.models import DescriptorPoll


@shared_task(base=PortalTask, name="versions.tasks.poll_due_descriptors")
def poll_due_descriptors() -> int:
    """Beat: enqueue one poll per due listing, spread over the polling interval."""
    from versions.services.automatic import descriptor_polls_enqueue_due

    return descriptor_polls_enqueue_due()


@shared_task(base=PortalTask, name="versions.tasks.poll_descriptor")
def poll_descriptor(
    listing_id: int, trigger: str = DescriptorPoll.Trigger.SCHEDULE, user_id: int | None = None
) -> None:
    """Poll one listing's descriptor; failures are recorded on the poll, never raised (the next poll retries)."""
    from versions.services.automatic import listing_poll_descriptor, pollable_listings

    listing = pollable_listings().filter(pk=listing_id).first()
    if listing is None:
        return
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    listing_poll_descriptor(listing=listing, trigger=trigger, requested_by=user)


@shared_task(base=PortalTask, name="versions.tasks.send_poll_failure_email")
def send_poll_failure_email(poll_id: int) -> None:
    """Tell the vendor their descriptor could not be polled (once per failure streak)."""
    emails.send_poll_failure_email(poll_id)


@shared_task(base=PortalTask, name="versions.tasks.send_auto_version_email")
def send_auto_version_email(version_id: int) -> None:
    """Tell the vendor the portal made a version from their descriptor or deploy (once per version)."""
    emails.send_auto_version_email(version_id)


@shared_task(base=PortalTask, name="versions.tasks.publish_scheduled_versions")
def publish_scheduled_versions() -> int:
    """Beat: publish the approved versions whose scheduled time came (each exactly once)."""
    from versions.services.releases import versions_publish_due

    return len(versions_publish_due())
