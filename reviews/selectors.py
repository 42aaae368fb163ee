"""Reads for the reviewer workspace: the queue, its summary, and what changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django_fsm import can_proceed

from marketplace.permissions import is_reviewer, is_vendor_member
from marketplace.selectors import scope_catalogue
from reviews.diffs import DescriptorDiff, ReviewDiff, descriptor_diff, review_diff
from reviews.models import ReviewQueueVersion
from versions.models import WAITING_FOR_REVIEW, Source, State, Version

AUTOMATIC_SOURCES = (Source.POLL, Source.DEPLOY, Source.SHARE)


def review_queue() -> QuerySet[ReviewQueueVersion]:
    """Versions waiting for a reviewer, oldest submission first."""
    return (
        ReviewQueueVersion.objects.filter(state__in=WAITING_FOR_REVIEW)
        .select_related("listing", "listing__vendor", "reviewer")
        .order_by("submitted_at", "pk")
    )


def _pick_live(version: Version, live: Iterable[Version]) -> Version | None:
    """This version's channel first; when it has nothing live yet, the listing's newest live version."""
    candidates = [v for v in live if v.listing_id == version.listing_id and v.pk != version.pk]
    same = [v for v in candidates if v.channel == version.channel]
    pool = same or candidates
    if not pool:
        return None
    return max(pool, key=lambda v: (v.published_at is not None, v.published_at or v.created_at, v.pk))


def attach_live_versions(versions: Iterable[Version]) -> None:
    """Set `.live` (what the review compares against) on each version, with one query for all."""
    versions = list(versions)
    live = list(
        Version.objects.filter(listing_id__in={v.listing_id for v in versions}, state=State.PUBLISHED).only(
            "pk", "listing_id", "channel", "scopes", "pricing", "published_at", "created_at", "number"
        )
    )
    for version in versions:
        version.live = _pick_live(version, live)


@dataclass(frozen=True)
class QueueSummary:
    waiting: int
    pending: int
    in_review: int
    oldest_submitted_at: datetime | None


def review_queue_summary() -> QueueSummary:
    row = Version.objects.filter(state__in=WAITING_FOR_REVIEW).aggregate(
        waiting=Count("pk"),
        pending=Count("pk", filter=Q(state=State.PENDING_APPROVAL)),
        in_review=Count("pk", filter=Q(state=State.IN_REVIEW)),
        oldest=Min("submitted_at"),
    )
    return QueueSummary(row["waiting"], row["pending"], row["in_review"], row["oldest"])


def live_version_for(version: Version) -> Version | None:
    """What the review compares against: the version customers run now in this version's
    channel or, when that channel has none yet, the listing's newest live version."""
    return _pick_live(version, Version.objects.filter(listing_id=version.listing_id, state=State.PUBLISHED))


@dataclass(frozen=True)
class ReviewContext:
    live: Version | None
    diff: ReviewDiff
    descriptor: DescriptorDiff | None
    notes_length: int

    @property
    def same_channel(self) -> bool:
        return self.live is not None and self.live.channel == self.version_channel

    version_channel: str = ""


def review_context(version: Version) -> ReviewContext:
    live = live_version_for(version)
    diff = review_diff(
        previous_scopes=live.scopes if live else None,
        scopes=version.scopes,
        previous_pricing=live.pricing if live else None,
        pricing=version.pricing,
        catalogue=scope_catalogue(),
        consent_applies=live is not None and live.channel == version.channel,
        scheme=version.listing.scheme,
        previous_number=live.number if live else None,
        number=version.number,
    )
    descriptor = None
    if version.source in AUTOMATIC_SOURCES or version.descriptor is not None:
        descriptor = descriptor_diff(live.descriptor if live else None, version.descriptor)
    return ReviewContext(live, diff, descriptor, len(version.update_notes or ""), version.channel)


@dataclass(frozen=True)
class OfferedTransitions:
    start_review: bool = False
    approve: bool = False
    reject: bool = False
    cancel: bool = False
    release: bool = False
    # Why the review buttons are missing, when the state would allow them.
    refusal: str = ""

    @property
    def any(self) -> bool:
        return self.start_review or self.approve or self.reject or self.cancel or self.release


def review_transitions_offered(*, version: Version, user: Any) -> OfferedTransitions:
    """The buttons to show: allowed by the state machine and by the same rules the services apply."""
    if not is_reviewer(user):
        return OfferedTransitions(refusal="Only marketplace reviewers (the Reviewers group) may act on versions.")
    own_vendor = is_vendor_member(user, version.listing.vendor_id)
    may_review = not own_vendor
    state_allows_review = can_proceed(version.start_review) or can_proceed(version.approve)
    return OfferedTransitions(
        start_review=may_review and can_proceed(version.start_review),
        approve=may_review and can_proceed(version.approve),
        reject=may_review and can_proceed(version.reject),
        cancel=can_proceed(version.cancel),
        release=may_review and can_proceed(version.release_to_queue),
        refusal=(
            f"You belong to {version.listing.vendor}, so you may not review this version."
            if own_vendor and state_allows_review
            else ""
        ),
    )
