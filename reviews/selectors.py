"""Reads for the reviewer workspace: the queue, its summary, and what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, JSONField, Min, OuterRef, Q, QuerySet, Subquery
from django_fsm import can_proceed

from marketplace.permissions import is_reviewer, is_vendor_member
from marketplace.selectors import scope_catalogue
from reviews.diffs import DescriptorDiff, ReviewDiff, descriptor_diff, review_diff
from reviews.models import ReviewQueueVersion
from versions.models import WAITING_FOR_REVIEW, Source, State, Version

AUTOMATIC_SOURCES = (Source.POLL, Source.DEPLOY, Source.SHARE)


def _live_of_same_channel() -> QuerySet[Version]:
    return Version.objects.filter(
        listing_id=OuterRef("listing_id"), channel=OuterRef("channel"), state=State.PUBLISHED
    ).exclude(pk=OuterRef("pk"))


def review_queue() -> QuerySet[ReviewQueueVersion]:
    """Versions waiting for a reviewer, oldest submission first, with the live version's
    scopes and pricing annotated (one query for the whole page, however long)."""
    live = _live_of_same_channel()
    return (
        ReviewQueueVersion.objects.filter(state__in=WAITING_FOR_REVIEW)
        .select_related("listing", "listing__vendor", "reviewer")
        .annotate(
            live_id=Subquery(live.values("pk")[:1]),
            live_scopes=Subquery(live.values("scopes")[:1], output_field=JSONField()),
            live_pricing=Subquery(live.values("pricing")[:1]),
        )
        .order_by("submitted_at", "pk")
    )


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
    """The version customers run now in this version's channel (what the review compares against)."""
    return (
        Version.objects.filter(listing_id=version.listing_id, channel=version.channel, state=State.PUBLISHED)
        .exclude(pk=version.pk)
        .first()
    )


@dataclass(frozen=True)
class ReviewContext:
    live: Version | None
    diff: ReviewDiff
    descriptor: DescriptorDiff | None
    notes_length: int


def review_context(version: Version) -> ReviewContext:
    live = live_version_for(version)
    diff = review_diff(
        previous_scopes=live.scopes if live else None,
        scopes=version.scopes,
        previous_pricing=live.pricing if live else None,
        pricing=version.pricing,
        catalogue=scope_catalogue(),
    )
    descriptor = None
    if version.source in AUTOMATIC_SOURCES or version.descriptor is not None:
        descriptor = descriptor_diff(live.descriptor if live else None, version.descriptor)
    return ReviewContext(live, diff, descriptor, len(version.update_notes or ""))


@dataclass(frozen=True)
class OfferedTransitions:
    start_review: bool = False
    approve: bool = False
    reject: bool = False
    cancel: bool = False
    # Why the review buttons are missing, when the state would allow them.
    refusal: str = ""

    @property
    def any(self) -> bool:
        return self.start_review or self.approve or self.reject or self.cancel


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
        refusal=(
            f"You belong to {version.listing.vendor}, so you may not review this version."
            if own_vendor and state_allows_review
            else ""
        ),
    )
