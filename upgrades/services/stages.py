"""Staged rollouts (issue #16, item 1): start in stages, advance (by hand or on schedule),
halt by itself when a stage fails too often; and the follow-up of a yanked version.

A stage is every installation whose bucket (versions.policies.stage_bucket of the
installation and the version) is below the stage's limit; limits only grow, so a
stage never shrinks. The rollout's chunks (upgrades.services.rollouts) filter their
installations by the current limit; advancing raises the limit and re-scans from
the first installation: those offered already are skipped by the chunk's own
"no upgrade or request for this version yet" rule, so consent requests go out as
each installation's stage comes, once.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, TransitionNotAllowed
from core.services import audit_record
from marketplace.permissions import require_vendor_member_or_staff
from upgrades import tasks
from upgrades.models import RequestState, Rollout, RolloutState, Upgrade, UpgradeRequest, UpgradeState
from upgrades.selectors.stages import (
    rollout_stage_failures,
    rollouts_watching_failures,
    rollouts_with_stage_due,
)
from upgrades.services._common import supersede_open_work
from versions import policies
from versions.models import StagePlan, Version


def _stage_audit(rollout: Rollout, action: str, *, actor: Any, from_stage: str, now: datetime, **details: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=rollout,
        object_repr=f"{rollout.listing.key}@{rollout.version.number}",
        from_state=from_stage,
        to_state=f"stage {rollout.stage_index + 1} ({rollout.stage_percent} %)",
        details={"stage": rollout.stage_index + 1, "percent": rollout.stage_percent, **details},
        at=now,
    )


def _touch_version(version_id: int, now: datetime) -> None:
    """Who is offered the version changed: the update check's caches (ETags) must change too."""
    Version.objects.filter(pk=version_id).update(updated_at=now)


def rollout_stages_setup(*, rollout: Rollout, now: datetime | None = None) -> Rollout:
    """Called by rollout_start when it creates the rollout: copy the version's stage plan, if any,
    and begin its first stage (audited). Without a plan the rollout reaches everybody at once."""
    plan = StagePlan.objects.filter(version_id=rollout.version_id).first()
    if plan is None:
        return rollout
    now = now or timezone.now()
    rollout.stages = list(plan.stages)
    rollout.stage_index = 0
    rollout.bucket_limit = policies.stage_bucket_limit(plan.stages[0])
    rollout.stage_started_at = now
    rollout.advance_every_hours = plan.advance_every_hours
    rollout.halt_failure_percent = plan.halt_failure_percent
    rollout.save(
        update_fields=[
            "stages",
            "stage_index",
            "bucket_limit",
            "stage_started_at",
            "advance_every_hours",
            "halt_failure_percent",
        ]
    )
    _stage_audit(rollout, "rollout.stage_begin", actor=None, from_stage="", now=now, stages=rollout.stages)
    return rollout


def rollout_stage_waiting(rollout: Rollout) -> bool:
    """A staged rollout whose current stage is fully offered but is not at its last stage: it waits
    for the next stage (it does not complete)."""
    return rollout.is_staged and not rollout.is_last_stage


def rollout_stage_advance(*, rollout: Rollout | int, actor: Any, now: datetime | None = None) -> Rollout:
    """Move a running staged rollout to its next stage (the vendor's Advance, or beat's schedule)."""
    pk = rollout if isinstance(rollout, int) else rollout.pk
    now = now or timezone.now()
    with transaction.atomic():
        rollout = Rollout.objects.select_for_update(of=("self",)).select_related("listing", "version").get(pk=pk)
        if actor is not None:
            require_vendor_member_or_staff(actor, rollout.listing.vendor_id)
        if not rollout.is_staged:
            raise ApplicationError(
                f"The rollout of {rollout.version.number} is not in stages: it reaches everybody already.",
                field="rollout",
            )
        if rollout.state != RolloutState.RUNNING:
            raise TransitionNotAllowed(
                f"The rollout of {rollout.version.number} is {rollout.get_state_display().lower()}: "
                "only a running rollout advances (resume it first)."
            )
        if rollout.is_last_stage:
            raise TransitionNotAllowed(
                f"The rollout of {rollout.version.number} is at its last stage ({rollout.stage_percent} %)."
            )
        from_stage = f"stage {rollout.stage_index + 1} ({rollout.stage_percent} %)"
        rollout.stage_index += 1
        rollout.bucket_limit = policies.stage_bucket_limit(rollout.stage_percent)
        rollout.stage_started_at = now
        # Re-scan from the first installation: the new stage's installations are spread over all ids.
        rollout.cursor = 0
        rollout.progressed_at = now
        rollout.save(update_fields=["stage_index", "bucket_limit", "stage_started_at", "cursor", "progressed_at"])
        _stage_audit(
            rollout,
            "rollout.stage_advance",
            actor=actor,
            from_stage=from_stage,
            now=now,
            scheduled=actor is None,
        )
        _touch_version(rollout.version_id, now)
        transaction.on_commit(partial(tasks.rollout_process.delay, rollout.pk, 0))
    return rollout


def rollout_stage_check_failures(*, rollout_id: int, now: datetime | None = None) -> bool:
    """Halt a running staged rollout whose stage's failure rate reached the vendor's threshold
    (audited, the vendor e-mailed once). Returns whether it halted."""
    from upgrades.services.rollouts import _rollout_transition

    now = now or timezone.now()
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("listing", "version")
            .filter(pk=rollout_id, state=RolloutState.RUNNING)
            .first()
        )
        if rollout is None or not rollout.is_staged or not rollout.halt_failure_percent:
            return False
        failed, attempted = rollout_stage_failures(rollout)
        if not policies.stage_failure_halts(
            failed=failed, attempted=attempted, threshold_percent=rollout.halt_failure_percent
        ):
            return False
        rollout.halt_reason = (
            f"Stage {rollout.stage_index + 1} ({rollout.stage_percent} %): {failed} of {attempted} upgrades failed, "
            f"at or above the {rollout.halt_failure_percent} % threshold."
        )
        _rollout_transition(
            rollout,
            "halt",
            actor=None,
            reason=rollout.halt_reason,
            stage=rollout.stage_index + 1,
            failed=failed,
            attempted=attempted,
            threshold_percent=rollout.halt_failure_percent,
        )
        Rollout.objects.filter(pk=rollout.pk).update(halt_reason=rollout.halt_reason)
        _touch_version(rollout.version_id, now)
        transaction.on_commit(partial(tasks.send_stage_halted_email.delay, rollout.pk), robust=True)
    return True


def rollout_stages_tick(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Beat: halt the stages failing too often, then advance the stages whose time came.

    Failures are checked first, so a failing stage is never advanced by the schedule."""
    now = now or timezone.now()
    halted = [pk for pk in rollouts_watching_failures() if rollout_stage_check_failures(rollout_id=pk, now=now)]
    advanced = []
    for pk in rollouts_with_stage_due(now=now):
        try:
            rollout_stage_advance(rollout=pk, actor=None, now=now)
        except ApplicationError:
            continue  # halted or advanced meanwhile: the next tick looks again
        advanced.append(pk)
    return {"halted": halted, "advanced": advanced}


def version_yanked_followup(*, version_id: int) -> dict[str, int]:
    """After a yank: its running rollout halts (audited) and the upgrades and consent requests still
    open towards the version close. Idempotent: a second run finds nothing open."""
    from upgrades.services.rollouts import _rollout_transition

    now = timezone.now()
    with transaction.atomic():
        version = Version.objects.filter(pk=version_id).select_related("listing").first()
        if version is None or not hasattr(version, "yank"):
            return {"halted": 0, "requests": 0, "upgrades": 0}
        halted = 0
        rollout = (
            Rollout.objects.select_for_update(of=("self",))
            .select_related("listing", "version")
            .filter(version_id=version_id, state=RolloutState.RUNNING)
            .first()
        )
        if rollout is not None:
            rollout.halt_reason = f"{version.number} was yanked: {version.yank.reason}"
            _rollout_transition(rollout, "halt", actor=None, reason=rollout.halt_reason)
            Rollout.objects.filter(pk=rollout.pk).update(halt_reason=rollout.halt_reason)
            halted = 1
        open_towards = set(
            Upgrade.objects.filter(to_version_id=version_id, state=UpgradeState.SCHEDULED).values_list(
                "installation_id", flat=True
            )
        ) | set(
            UpgradeRequest.objects.filter(to_version_id=version_id, state=RequestState.PENDING).values_list(
                "installation_id", flat=True
            )
        )
        requests = upgrades = 0
        if open_towards:
            requests, upgrades = supersede_open_work(
                installations={"installation_id__in": sorted(open_towards), "to_version_id": version_id},
                outcome=f"{version.number} was yanked",
                now=now,
            )
    return {"halted": halted, "requests": requests, "upgrades": upgrades}
