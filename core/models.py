"""Tables every app shares: worker heartbeats (and the audit log)."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time a Celery process checked in (beat schedules it): shown by /healthz."""

    name = models.CharField(max_length=60, unique=True)
    last_seen = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
