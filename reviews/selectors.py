"""Reads for the reviewer workspace: the queue, its summary, and what changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest, TruncWeek
from django.utils import timezone
from django_fsm import can_proceed

from marketplace.permissions import is_reviewer, is_vendor_member
from marketplace.selectors import scope_catalogue
from reviews.diffs import DescriptorDiff, ReviewDiff, descriptor_diff, review_diff
from reviews.models import ChecklistItem, ReviewerNote, ReviewMessage, ReviewQueueVersion
from reviews.policies import claim_is_active, is_review_lead
from versions.models import IN_REVIEW_QUEUE, WAITING_FOR_REVIEW, Source, State, Version, VersionTransition

AUTOMATIC_SOURCES = (Source.POLL, Source.DEPLOY, Source.SHARE)


def review_queue() -> QuerySet[ReviewQueueVersion]:
    """Versions waiting for a reviewer (or for the vendor's answer to a question), longest waiting
    first; each with `last_activity` (what a claim's expiry counts from)."""
    return (
        ReviewQueueVersion.objects.filter(state__in=IN_REVIEW_QUEUE)
        .select_related("listing", "listing__vendor", "reviewer")
        .annotate(last_activity=_last_activity_expression())
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
    needs_information: int = 0


def review_queue_summary() -> QueueSummary:
    row = Version.objects.filter(state__in=IN_REVIEW_QUEUE).aggregate(
        waiting=Count("pk", filter=Q(state__in=WAITING_FOR_REVIEW)),
        pending=Count("pk", filter=Q(state=State.PENDING_APPROVAL)),
        in_review=Count("pk", filter=Q(state=State.IN_REVIEW)),
        needs_information=Count("pk", filter=Q(state=State.NEEDS_INFORMATION)),
        oldest=Min("submitted_at", filter=Q(state__in=WAITING_FOR_REVIEW)),
    )
    return QueueSummary(
        row["waiting"], row["pending"], row["in_review"], row["oldest"], needs_information=row["needs_information"]
    )


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
    start_review: bool = False  # "Claim" in the admin: start the review as its reviewer
    approve: bool = False
    reject: bool = False
    cancel: bool = False
    release: bool = False
    ask: bool = False  # ask the vendor a question (needs information)
    take_over: bool = False  # claim a version whose claim lapsed
    assign: bool = False  # leads: assign or reassign
    # Why the review buttons are missing, when the state would allow them.
    refusal: str = ""

    @property
    def any(self) -> bool:
        return (
            self.start_review
            or self.approve
            or self.reject
            or self.cancel
            or self.release
            or self.ask
            or self.take_over
            or self.assign
        )


def review_transitions_offered(
    *, version: Version, user: Any, last_activity: datetime | None = None, now: datetime | None = None
) -> OfferedTransitions:
    """The buttons to show: allowed by the state machine and by the same rules the services apply
    (no self-review; only the claim holder decides; a lapsed claim may be taken over)."""
    if not is_reviewer(user):
        return OfferedTransitions(refusal="Only marketplace reviewers (the Reviewers group) may act on versions.")
    own_vendor = is_vendor_member(user, version.listing.vendor_id)
    may_review = not own_vendor
    lead = is_review_lead(user)
    state_allows_review = can_proceed(version.start_review) or can_proceed(version.approve)
    held_by_other = version.reviewer_id is not None and version.reviewer_id != user.pk
    lapsed = (
        held_by_other
        and version.state == State.IN_REVIEW
        and not claim_is_active(
            last_activity, now=now or timezone.now(), expiry_hours=settings.REVIEW_CLAIM_EXPIRY_HOURS
        )
    )
    holder_may = may_review and not held_by_other
    refusal = ""
    if own_vendor and state_allows_review:
        refusal = f"You belong to {version.listing.vendor}, so you may not review this version."
    elif held_by_other and version.state in (State.IN_REVIEW, State.NEEDS_INFORMATION) and not lapsed:
        refusal = f"Claimed by {version.reviewer.get_username()}: only they may act on it" + (
            " (you may reassign it as a lead)." if lead else "; a review lead can reassign it."
        )
    return OfferedTransitions(
        start_review=may_review and can_proceed(version.start_review),
        approve=holder_may and can_proceed(version.approve),
        reject=holder_may and can_proceed(version.reject),
        cancel=can_proceed(version.cancel),
        release=may_review and can_proceed(version.release_to_queue) and (not held_by_other or lead),
        ask=holder_may and can_proceed(version.request_information),
        take_over=may_review and lapsed,
        assign=lead and version.state in IN_REVIEW_QUEUE,
        refusal=refusal,
    )


# --- claims, the thread, notes, the vendor's history ------------------------------------------------


def checklist_for(*, scheme: str) -> list[ChecklistItem]:
    """The active checklist items of a scheme (and those for every scheme), in order."""
    return list(ChecklistItem.objects.filter(active=True).filter(Q(scheme="") | Q(scheme=scheme)))


def _last_activity_expression() -> Greatest:
    transitions = VersionTransition.objects.filter(version=OuterRef("pk")).order_by("-at").values("at")[:1]
    messages = ReviewMessage.objects.filter(version=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    notes = ReviewerNote.objects.filter(version=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    return Greatest(
        Coalesce(Subquery(transitions), F("submitted_at")),
        Coalesce(Subquery(messages), Subquery(transitions), F("submitted_at")),
        Coalesce(Subquery(notes), Subquery(transitions), F("submitted_at")),
    )


def claim_last_activity(*, version_id: int) -> datetime | None:
    """The last thing that happened on a version (a transition, a message, a reviewer's note):
    what a claim's expiry counts from."""
    return (
        Version.objects.filter(pk=version_id)
        .annotate(last_activity=_last_activity_expression())
        .values_list("last_activity", flat=True)
        .first()
    )


def review_thread(*, version: Version) -> list[ReviewMessage]:
    """The version's conversation, oldest first (what both the vendor and the reviewers see)."""
    return list(version.review_messages.select_related("author").order_by("created_at", "id"))


def reviewer_notes(*, version: Version) -> list[ReviewerNote]:
    """Private notes on the version and on its vendor, newest first (reviewers only)."""
    return list(
        ReviewerNote.objects.filter(Q(version=version) | Q(vendor_id=version.listing.vendor_id))
        .select_related("author", "version")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class VendorHistory:
    approved: int
    rejected: int
    published: int
    open_questions: int
    recent_rejections: list[VersionTransition]


def vendor_review_history(*, vendor_id: int, exclude_version_id: int | None = None) -> VendorHistory:
    """The vendor at a glance: decisions on their versions, open questions, the latest rejections."""
    decisions = VersionTransition.objects.filter(version__listing__vendor_id=vendor_id)
    counts = decisions.aggregate(
        approved=Count("pk", filter=Q(name="approve")),
        rejected=Count("pk", filter=Q(name="reject")),
        published=Count("pk", filter=Q(name__in=["publish", "release_without_review"])),
    )
    open_questions = Version.objects.filter(listing__vendor_id=vendor_id, state=State.NEEDS_INFORMATION).count()
    rejections = decisions.filter(name="reject").select_related("version", "version__listing", "actor")
    if exclude_version_id:
        rejections = rejections.exclude(version_id=exclude_version_id)
    return VendorHistory(
        approved=counts["approved"],
        rejected=counts["rejected"],
        published=counts["published"],
        open_questions=open_questions,
        recent_rejections=list(rejections.order_by("-at", "-id")[:5]),
    )


# --- metrics for leads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewerWeek:
    reviewer: str
    week: date
    decisions: int


@dataclass(frozen=True)
class ReviewMetrics:
    weeks: int
    per_reviewer_week: list[ReviewerWeek]
    median_hours_to_decision: float | None
    decisions: int
    oldest_waiting: list[Version]


def review_metrics(*, weeks: int = 8, now: datetime | None = None) -> ReviewMetrics:
    """Reviews per reviewer per week, the median time from submission to decision, and the
    oldest versions waiting, over the last `weeks` weeks."""
    now = now or timezone.now()
    since = now - timedelta(weeks=weeks)
    decided = VersionTransition.objects.filter(name__in=["approve", "reject"], at__gte=since)
    rows = (
        decided.annotate(week=TruncWeek("at"))
        .values("actor__username", "week")
        .annotate(decisions=Count("pk"))
        .order_by("-week", "actor__username")
    )
    per_week = [
        ReviewerWeek(
            reviewer=row["actor__username"] or "system",
            week=row["week"].date() if isinstance(row["week"], datetime) else row["week"],
            decisions=row["decisions"],
        )
        for row in rows
    ]
    # Submission -> decision: the decision's time minus the latest submit before it.
    submitted = (
        VersionTransition.objects.filter(version=OuterRef("version"), name="submit", at__lte=OuterRef("at"))
        .order_by("-at")
        .values("at")[:1]
    )
    spans = [
        (decided_at - submitted_at).total_seconds() / 3600
        for decided_at, submitted_at in decided.annotate(submitted=Subquery(submitted)).values_list("at", "submitted")
        if submitted_at is not None
    ]
    return ReviewMetrics(
        weeks=weeks,
        per_reviewer_week=per_week,
        median_hours_to_decision=round(median(spans), 1) if spans else None,
        decisions=decided.count(),
        oldest_waiting=list(review_queue().filter(state__in=WAITING_FOR_REVIEW)[:5]),
    )
