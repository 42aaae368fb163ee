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
def rollout_process(rollout_id: int, cursor: int | None = None) -> int:
    """One chunk; the service enqueues the next one after its commit (and beat's
    watch_rollouts does, when that message is lost)."""
    from upgrades.services import rollout_process_chunk

    return rollout_process_chunk(rollout_id=rollout_id, expected_cursor=cursor)


@shared_task(base=PortalTask, name="upgrades.tasks.upgrade_apply_due")
def upgrade_apply_due() -> int:
    """Apply what is due, batch after batch for a while; another message when more is left."""
    from upgrades.services import upgrades_apply_due_for

    applied, more = upgrades_apply_due_for()
    if more:
        upgrade_apply_due.delay()
    return applied


@shared_task(base=PortalTask, name="upgrades.tasks.upgrade_apply")
def upgrade_apply(upgrade_id: int) -> str | None:
    from upgrades.services import upgrade_apply as upgrade_apply_service

    upgrade = upgrade_apply_service(upgrade_id=upgrade_id)
    return upgrade.state if upgrade else None


@shared_task(base=PortalTask, name="upgrades.tasks.watch_rollouts")
def watch_rollouts() -> int:
    """Beat: start the next chunk of every running rollout that stopped moving, and the
    rollout of a version published lately whose start message was lost."""
    from upgrades.services import rollouts_resume_stalled, rollouts_start_missing

    return len(rollouts_resume_stalled()) + len(rollouts_start_missing())


@shared_task(base=PortalTask, name="upgrades.tasks.send_outbox")
def send_outbox() -> int:
    """Send queued e-mails in batches (enqueued after each commit that queues some, and by beat)."""
    from upgrades import emails

    sent, more = emails.outbox_drain()
    if more:
        send_outbox.delay()
    return sent


# Messages queued before the outbox name these tasks: they queue the rows (once) and send.
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


@shared_task(base=PortalTask, name="upgrades.tasks.licences_expire")
def licences_expire() -> int:
    """Beat: licences whose trial or paid period ended expire and disable their apps."""
    from upgrades.services import licences_expire as expire

    return expire()


@shared_task(base=PortalTask, name="upgrades.tasks.delivery_send")
def delivery_send(delivery_pk: int) -> str | None:
    """One attempt of a callback or webhook; the service enqueues the next one after its commit."""
    from upgrades.services import delivery_send as delivery_send_service

    delivery = delivery_send_service(delivery_pk=delivery_pk)
    return delivery.state if delivery else None


@shared_task(base=PortalTask, name="upgrades.tasks.delivery_send_due")
def delivery_send_due() -> int:
    """Beat: deliveries whose retry time came, and any whose task was lost."""
    from upgrades.services import deliveries_send_due

    return deliveries_send_due()


@shared_task(base=PortalTask, name="upgrades.tasks.webhook_version_event")
def webhook_version_event(version_id: int, event: str) -> int:
    """versions.hooks: a version was approved, rejected or published."""
    from upgrades.services.webhooks import webhook_version_event as webhook_version_event_service

    return len(webhook_version_event_service(version_id=version_id, event=event))


@shared_task(base=PortalTask, name="upgrades.tasks.send_delivery_failure_email")
def send_delivery_failure_email(streak_id: int, delivery_pk: int) -> bool:
    from upgrades import emails

    return emails.send_delivery_failure_email(streak_id, delivery_pk) is not None


@shared_task(base=PortalTask, name="upgrades.tasks.send_site_invitation")
def send_site_invitation(invitation_id: int, link_token: str) -> None:
    from upgrades.services import site_invitation_send

    site_invitation_send(invitation_id=invitation_id, link_token=link_token)


@shared_task(base=PortalTask, name="upgrades.tasks.rollout_stages_tick")
def rollout_stages_tick() -> dict[str, list[int]]:
    """Beat: halt staged rollouts whose stage fails too often; advance those whose stage time came."""
    from upgrades.services.stages import rollout_stages_tick as tick

    return tick()


@shared_task(base=PortalTask, name="upgrades.tasks.send_stage_halted_email")
def send_stage_halted_email(rollout_id: int) -> bool:
    from upgrades.emails import send_stage_halted_email as send

    return send(rollout_id) is not None


@shared_task(base=PortalTask, name="upgrades.tasks.version_yanked_followup")
def version_yanked_followup(version_id: int) -> dict[str, int]:
    from upgrades.services.stages import version_yanked_followup as followup

    return followup(version_id=version_id)


@shared_task(base=PortalTask, name="upgrades.tasks.send_upgrade_digests")
def send_upgrade_digests() -> int:
    """Beat: make today's digests of applied upgrades (once per admin, site and day); each is sent by its own task."""
    from upgrades.services.notifications import upgrade_digests_make

    return len(upgrade_digests_make())


@shared_task(base=PortalTask, name="upgrades.tasks.send_upgrade_digest")
def send_upgrade_digest(digest_id: int) -> bool:
    from upgrades import emails

    return emails.send_upgrade_digest(digest_id) is not None
