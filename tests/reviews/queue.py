"""The reviewers' queue in the admin: its URLs, and versions waiting in it
(used by the reviews tests, their fixtures and the browser tests)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.factories import VersionFactory

QUEUE_URL = "/admin/reviews/reviewqueueversion/"


def version_url(version, action: str = "change") -> str:
    return f"{QUEUE_URL}{version.pk}/{action}/"


def waiting_version(listing, number: str, *, state: str = "pending_approval", age_hours: float = 1, **fields):
    return VersionFactory(
        listing=listing,
        number=number,
        state=state,
        submitted_at=timezone.now() - timedelta(hours=age_hours),
        **fields,
    )


def all_ticks(version) -> list[int]:
    """Every checklist item of the version's scheme, ticked (what an approve must post)."""
    from reviews.selectors import checklist_for

    return [item.pk for item in checklist_for(scheme=version.listing.scheme)]
