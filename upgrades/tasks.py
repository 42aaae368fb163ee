"""Celery tasks of the upgrades app: take ids, re-fetch, call one service.

Names follow the routing patterns in settings (CELERY_TASK_ROUTES):
`*.rollout_*` and `*.upgrade_*` go to the rollouts queue, `*.send_*` to email.
Every task may run twice: the services filter out what is already done.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from upgrades import emails, services
from upgrades.models import SentEmail

TRANSIENT = (OperationalError, ConnectionError, TimeoutError, OSError)


@shared_task(name="upgrades.tasks.rollout_start", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rollout_start_task(version_id: int) -> int | None:
    rollout = services.rollout_start(version_id=version_id)
    return rollout.pk if rollout else None


@shared_task(
    name="upgrades.tasks.rollout_process", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def rollout_process(rollout_id: int) -> int:
    """One chunk; the service enqueues the next one after its commit."""
    return services.rollout_process_chunk(rollout_id=rollout_id)


@shared_task(
    name="upgrades.tasks.upgrade_apply_due", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def upgrade_apply_due() -> int:
    return services.upgrades_apply_due()


@shared_task(name="upgrades.tasks.upgrade_apply", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def upgrade_apply(upgrade_id: int) -> str | None:
    upgrade = services.upgrade_apply(upgrade_id=upgrade_id)
    return upgrade.state if upgrade else None


@shared_task(
    name="upgrades.tasks.send_upgrade_request_emails", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=8
)
def send_upgrade_request_emails(request_ids: list[int]) -> int:
    return sum(emails.send_request_emails(pk) for pk in request_ids)


@shared_task(
    name="upgrades.tasks.send_upgrade_reminder_emails", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=8
)
def send_upgrade_reminder_emails(request_ids: list[int]) -> int:
    return sum(emails.send_request_emails(pk, kind=SentEmail.Kind.REMINDER) for pk in request_ids)


@shared_task(
    name="upgrades.tasks.send_upgrade_applied_emails", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=8
)
def send_upgrade_applied_emails(upgrade_ids: list[int]) -> int:
    return sum(emails.send_applied_emails(pk) for pk in upgrade_ids)


@shared_task(name="upgrades.tasks.upgrade_housekeeping")
def upgrade_housekeeping() -> dict[str, int]:
    """Beat: apply what became due, remind, expire."""
    return {
        "applied": services.upgrades_apply_due(),
        "reminded": len(services.upgrade_requests_due_reminder()),
        "expired": services.upgrade_requests_expire(),
    }
