"""Shared by the service modules: closing what is still open for some installations."""

from __future__ import annotations

from typing import Any


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
