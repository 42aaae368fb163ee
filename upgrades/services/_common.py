"""Shared by the service modules: enqueue this app's tasks after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def _on_commit_delay(task_path: str, *args: Any) -> None:
    """Enqueue a task of this app after the surrounding transaction commits."""

    def enqueue() -> None:
        from upgrades import tasks

        getattr(tasks, task_path).delay(*args)

    transaction.on_commit(enqueue)


def supersede_open_work(*, installations: dict[str, Any], outcome: str, now: Any) -> tuple[int, int]:
    """Close what is still open for some installations: pending consent requests and
    scheduled upgrades become superseded (set-based). Returns (requests, upgrades).

    `installations` filters Upgrade/UpgradeRequest by installation, e.g.
    {"installation_id__in": ids} or {"installation__site_id": site_id}.
    """
    from upgrades.models import RequestState, Upgrade, UpgradeRequest, UpgradeState

    requests = UpgradeRequest.objects.filter(state=RequestState.PENDING, **installations).update(
        state=RequestState.SUPERSEDED, decided_at=now
    )
    upgrades = Upgrade.objects.filter(state=UpgradeState.SCHEDULED, **installations).update(
        state=UpgradeState.SUPERSEDED, outcome=outcome
    )
    return requests, upgrades
