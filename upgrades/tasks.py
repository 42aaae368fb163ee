"""Celery tasks of the upgrades app: take ids, re-fetch, call one service.

Names follow the routing patterns in settings (CELERY_TASK_ROUTES):
`*.rollout_*` and `*.upgrade_*` go to the rollouts queue, `*.send_*` to email.
Every task may run twice: the services filter out what is already done.
Retries and time limits: core.tasks.PortalTask. The services enqueue these
task objects after commit; the services are imported inside each task, since
they import this module to do so.
"""

from __future__ import annotations

from celery import shared_task

from core.tasks import PortalTask


@shared_task(base=PortalTask, name="upgrades.tasks.rollout_start")
def rollout_start_task(version_id: int) -> int | None:
    from upgrades.services import rollout_start

    rollout = rollout_start(version_id=version_id)
    return rollout.pk if rollout else None


@shared_task(base=PortalTask, name="upgrades.tasks.rollout_process")
def rollout_process(rollout_id: int) -> int:
    """One chunk; the service enqueues the next one after its commit."""
    from upgrades.services import rollout_process_chunk

    return rollout_process_chunk(rollout_id=rollout_id)


@shared_task(base=PortalTask, name="upgrades.tasks.upgrade_apply_due")
def upgrade_apply_due() -> int:
    from upgrades.services import upgrades_apply_due

    return upgrades_apply_due()


@shared_task(base=PortalTask, name="upgrades.tasks.upgrade_apply")
def upgrade_apply(upgrade_id: int) -> str | None:
    from upgrades.services import upgrade_apply as upgrade_apply_service

    upgrade = upgrade_apply_service(upgrade_id=upgrade_id)
    return upgrade.state if upgrade else None


@shared_task(base=PortalTask, name="upgrades.tasks.send_upgrade_request_emails")
def send_upgrade_request_emails(request_ids: list[int]) -> int:
    from upgrades import emails

    return emails.send_request_emails_many(request_ids)


@shared_task(base=PortalTask, name="upgrades.tasks.send_upgrade_reminder_emails")
def send_upgrade_reminder_emails(request_ids: list[int]) -> int:
    from upgrades import emails

    return emails.send_reminder_emails_many(request_ids)


@shared_task(base=PortalTask, name="upgrades.tasks.send_upgrade_applied_emails")
def send_upgrade_applied_emails(upgrade_ids: list[int]) -> int:
    from upgrades import emails

    return emails.send_applied_emails_many(upgrade_ids)


@shared_task(base=PortalTask, name="upgrades.tasks.upgrade_housekeeping")
def upgrade_housekeeping() -> dict[str, int]:
    """Beat: apply what became due, remind, expire."""
    from upgrades.services import upgrades_housekeeping

    return upgrades_housekeeping()


@shared_task(base=PortalTask, name="upgrades.tasks.send_site_invitation")
def send_site_invitation(invitation_id: int, link_token: str) -> None:
    from upgrades.services import site_invitation_send

    site_invitation_send(invitation_id=invitation_id, link_token=link_token)
