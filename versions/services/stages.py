"""Publishing a version to roll out in stages (issue #16, item 1).

The plan is validated by versions.policies.stage_plan_check and saved in the
publishing transaction, before the publish hook queues the rollout's start:
the rollout (upgrades.services.stages) finds it when it begins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from core.errors import ApplicationError
from core.services import audit_record
from versions import policies
from versions.models import StagePlan, Version
from versions.services.lifecycle import version_publish


def version_publish_in_stages(
    *,
    version: Version,
    actor: Any,
    stages: Iterable[Any],
    advance_every_hours: int | None = None,
    halt_failure_percent: int | None = None,
    comment: str = "",
) -> Version:
    """Publish an approved version whose rollout goes stage by stage (1 %, 5 %, ... 100 %)."""
    values = policies.stage_plan_check(
        stages, advance_every_hours=advance_every_hours, halt_failure_percent=halt_failure_percent
    )
    with transaction.atomic():
        # version_publish locks the version and checks who may publish before anything is written;
        # the plan is saved after it, in the same transaction, ahead of the rollout start it queues.
        version = version_publish(version=version, actor=actor, comment=comment)
        if StagePlan.objects.filter(version_id=version.pk).exists():
            raise ApplicationError(f"{version} already has a stage plan.", field="stages")
        plan = StagePlan.objects.create(
            version=version,
            stages=values,
            advance_every_hours=advance_every_hours or None,
            halt_failure_percent=halt_failure_percent or None,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="version.stage_plan",
            obj=version,
            object_repr=f"{version.listing.key}@{version.number}",
            details={
                "stages": plan.stages,
                "advance_every_hours": plan.advance_every_hours,
                "halt_failure_percent": plan.halt_failure_percent,
            },
        )
    return version
