"""Writes of the portal itself (not of any app's domain)."""

from __future__ import annotations

from django.utils import timezone

from core.models import WorkerHeartbeat


def heartbeat_record(*, name: str, hostname: str = "") -> None:
    """Note that a Celery worker is alive (idempotent: one row per name, last write wins)."""
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now(), "hostname": hostname})
