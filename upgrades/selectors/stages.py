"""Reads of staged rollouts (issue #16): which installations a stage holds, a stage's failure
rate, and the stage panel on the vendor's rollout page.

The bucket is versions.policies.stage_bucket; `stage_bucket_expression` is the same
integer arithmetic as a Django expression, so the rollout's chunk query filters in SQL
(SQLite and PostgreSQL alike: every intermediate stays below 2**63).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.expressions import Expression

from upgrades.models import NOT_RUNNING_STATES, Installation, Rollout, RolloutState, Upgrade, UpgradeState
from versions import policies


def stage_bucket_expression(installation_field: str, version_id: int | Expression) -> ExpressionWrapper:
    """SQL for policies.stage_bucket(<installation_field>, version_id)."""
    version = version_id if isinstance(version_id, Expression) else Value(int(version_id))
    m, a = Value(policies.STAGE_HASH_MODULUS), Value(policies.STAGE_HASH_MULTIPLIER)
    h = (F(installation_field) * a + version) % m
    return ExpressionWrapper((h * a) % m % Value(policies.STAGE_BUCKETS), output_field=BigIntegerField())


def installations_in_stage(installations: QuerySet[Installation], *, version_id: int, limit: int) -> QuerySet:
    """Keep the installations whose bucket is below the stage's limit (all of them at 100 %)."""
    if limit >= policies.STAGE_BUCKETS:
        return installations
    return installations.alias(stage_bucket=stage_bucket_expression("pk", version_id)).filter(stage_bucket__lt=limit)


def stage_failure_window_start(rollout: Rollout) -> datetime | None:
    """Failures count from the stage's start, or from the last halt when the vendor resumed after it
    (they fixed something: the stage is judged anew)."""
    starts = [t for t in (rollout.stage_started_at, rollout.halted_at) if t is not None]
    return max(starts) if starts else None


def rollout_stage_failures(rollout: Rollout) -> tuple[int, int]:
    """(failed, attempted) upgrades of the rollout finished in the current stage's window."""
    since = stage_failure_window_start(rollout)
    upgrades = Upgrade.objects.filter(rollout_id=rollout.pk, state__in=[UpgradeState.APPLIED, UpgradeState.FAILED])
    if since is not None:
        upgrades = upgrades.filter(applied_at__gte=since)
    counts = upgrades.aggregate(attempted=Count("pk"), failed=Count("pk", filter=Q(state=UpgradeState.FAILED)))
    return counts["failed"] or 0, counts["attempted"] or 0


def rollouts_with_stage_due(*, now: datetime) -> list[int]:
    """Running staged rollouts short of their last stage whose scheduled advance time came."""
    candidates = Rollout.objects.filter(
        state=RolloutState.RUNNING, advance_every_hours__isnull=False, stage_started_at__isnull=False
    ).exclude(stages=[])
    return [
        r.pk
        for r in candidates.only("id", "stages", "stage_index", "stage_started_at", "advance_every_hours")
        if not r.is_last_stage and r.stage_started_at + timedelta(hours=r.advance_every_hours) <= now
    ]


def rollouts_watching_failures() -> list[int]:
    """Running staged rollouts with a failure threshold (beat checks their stage's failure rate)."""
    return list(
        Rollout.objects.filter(state=RolloutState.RUNNING, halt_failure_percent__isnull=False)
        .exclude(stages=[])
        .values_list("pk", flat=True)
    )


def rollout_stage_panel(rollout: Rollout) -> dict[str, Any] | None:
    """What the vendor's rollout page shows of a staged rollout; None for an unstaged one."""
    if not rollout.is_staged:
        return None
    running = Installation.objects.filter(listing_id=rollout.listing_id).exclude(state__in=NOT_RUNNING_STATES)
    in_stage = installations_in_stage(running, version_id=rollout.version_id, limit=rollout.bucket_limit).count()
    failed, attempted = rollout_stage_failures(rollout)
    next_at = (
        rollout.stage_started_at + timedelta(hours=rollout.advance_every_hours)
        if rollout.advance_every_hours and rollout.stage_started_at and not rollout.is_last_stage
        else None
    )
    return {
        "stages": [
            {
                "number": i + 1,
                "percent": percent,
                "status": "done" if i < rollout.stage_index else "current" if i == rollout.stage_index else "next",
            }
            for i, percent in enumerate(rollout.stages)
        ],
        "number": rollout.stage_index + 1,
        "count": len(rollout.stages),
        "percent": rollout.stage_percent,
        "installations_in_stage": in_stage,
        "installations": running.count(),
        "failed": failed,
        "attempted": attempted,
        "failure_percent": round(100 * failed / attempted, 1) if attempted else 0,
        "threshold": rollout.halt_failure_percent,
        "next_advance_at": next_at,
        "can_advance": rollout.state == RolloutState.RUNNING and not rollout.is_last_stage,
        "halt_reason": rollout.halt_reason if rollout.state == RolloutState.HALTED else "",
    }
