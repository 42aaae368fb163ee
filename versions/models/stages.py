"""A version's plan to roll out in stages (issue #16), chosen when it is published.

The plan belongs to the version (versions cannot import upgrades); the rollout
(upgrades.Rollout) copies it when it starts and keeps the stage it is at.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class StagePlan(models.Model):
    version = models.OneToOneField("versions.Version", on_delete=models.CASCADE, related_name="stage_plan")
    # Growing whole percentages ending at 100, e.g. [1, 5, 20, 50, 100] (versions.policies.stage_plan_check).
    stages = models.JSONField()
    # Beat advances the stage this many hours after it began; null: the vendor advances by hand.
    advance_every_hours = models.PositiveIntegerField(null=True, blank=True)
    # A stage halts by itself when this % of its attempted upgrades failed; null: never by itself.
    halt_failure_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(halt_failure_percent__isnull=True)
                | Q(halt_failure_percent__gte=1, halt_failure_percent__lte=100),
                name="stage_plan_halt_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(advance_every_hours__isnull=True) | Q(advance_every_hours__gte=1),
                name="stage_plan_advance_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version_id}: {'/'.join(str(s) for s in self.stages)} %"
