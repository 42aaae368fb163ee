"""Reads: the update check (the hot path), sites and installations, rollout progress, adoption."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from core.errors import NotFound
from marketplace.models import Listing
from marketplace.permissions import is_staff
from upgrades.models import (
    NOT_RUNNING_STATES,
    Installation,
    RequestState,
    Rollout,
    RolloutState,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)

# --- sites -------------------------------------------------------------------------------


SEGMENTS = (
    ("applied", "Applied", "#00875a"),
    ("scheduled", "Scheduled", "#0052cc"),
    ("awaiting_consent", "Awaiting consent", "#ff991f"),
    ("rejected", "Rejected", "#6b778c"),
    ("failed", "Failed", "#de350b"),
)


def _progress_rows(rollout_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {
        rid: dict.fromkeys([s[0] for s in SEGMENTS] + ["expired"], 0) for rid in rollout_ids
    }
    for row in (
        Upgrade.objects.filter(rollout_id__in=rollout_ids)
        .values("rollout_id")
        .annotate(
            applied=Count("pk", filter=Q(state=UpgradeState.APPLIED)),
            scheduled=Count("pk", filter=Q(state=UpgradeState.SCHEDULED)),
            failed=Count("pk", filter=Q(state=UpgradeState.FAILED)),
        )
    ):
        counts[row["rollout_id"]].update(applied=row["applied"], scheduled=row["scheduled"], failed=row["failed"])
    for row in (
        UpgradeRequest.objects.filter(rollout_id__in=rollout_ids)
        .values("rollout_id")
        .annotate(
            awaiting=Count("pk", filter=Q(state=RequestState.PENDING)),
            rejected=Count("pk", filter=Q(state=RequestState.REJECTED)),
            expired=Count("pk", filter=Q(state=RequestState.EXPIRED)),
        )
    ):
        counts[row["rollout_id"]].update(
            awaiting_consent=row["awaiting"], rejected=row["rejected"], expired=row["expired"]
        )
    return counts


def _with_segments(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts[s[0]] for s in SEGMENTS) + counts["expired"]
    segments = [
        {
            "key": key,
            "label": label,
            "color": color,
            "count": counts[key],
            "percent": round(100 * counts[key] / total, 1) if total else 0,
        }
        for key, label, color in SEGMENTS
    ]
    return {
        **counts,
        "total": total,
        "segments": segments,
        "done_percent": round(100 * counts["applied"] / total) if total else 0,
    }


def rollout_progress(rollout: Rollout) -> dict[str, Any]:
    return _with_segments(_progress_rows([rollout.pk])[rollout.pk])


def rollout_list(*, listing: Listing) -> QuerySet[Rollout]:
    """All of the listing's rollouts, newest first (the rollouts page pages through them)."""
    return Rollout.objects.filter(listing=listing).select_related("version").order_by("-created_at", "-id")


def rollouts_with_progress(rollouts: Iterable[Rollout]) -> list[dict[str, Any]]:
    """Each rollout with its progress and what may be done to it (two queries for any number)."""
    rollouts = list(rollouts)
    counts = _progress_rows([r.pk for r in rollouts])
    return [
        {
            "rollout": r,
            "progress": _with_segments(counts[r.pk]),
            "can_halt": r.state == RolloutState.RUNNING,
            "can_resume": r.state == RolloutState.HALTED,
        }
        for r in rollouts
    ]


def listing_rollouts(*, listing: Listing, limit: int = 5) -> list[dict[str, Any]]:
    """The listing's latest rollouts with their progress (three queries whatever the limit)."""
    return rollouts_with_progress(rollout_list(listing=listing)[:limit])


def listing_adoption(*, listing: Listing) -> list[dict[str, Any]]:
    """Installations per version (newest first), for the adoption chart."""
    rows = list(
        Installation.objects.filter(listing=listing)
        .exclude(state__in=NOT_RUNNING_STATES)
        .values("version__number", "version__sort_key")
        .annotate(installations=Count("pk"))
        .order_by("-version__sort_key")
    )
    total = sum(r["installations"] for r in rows)
    return [
        {
            "number": r["version__number"],
            "installations": r["installations"],
            "percent": round(100 * r["installations"] / total, 1) if total else 0,
        }
        for r in rows
    ]


def listing_rollout_panel(*, listing: Listing) -> dict[str, Any]:
    """Everything the vendor's listing page shows about rollouts (templates/upgrades/_rollout_progress.html)."""
    return {
        "listing": listing,
        "rollouts": listing_rollouts(listing=listing),
        "adoption": listing_adoption(listing=listing),
    }


def rollout_get_for_user(*, user: Any, pk: int) -> Rollout:
    from marketplace.permissions import is_vendor_member

    rollout = Rollout.objects.select_related("listing", "version").filter(pk=pk).first()
    if rollout is None or not (is_staff(user) or is_vendor_member(user, rollout.listing.vendor_id)):
        raise NotFound("No such rollout among your vendor's listings.")
    return rollout
