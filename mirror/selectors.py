"""Reads for the mirror feed (upstream side) and the sync history (downstream side).

The feed is read with a constant number of queries whatever the number of
listings and versions: one page of listings with their vendors, one prefetch
of their released versions, and one fingerprint of the whole feed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from marketplace.models import Listing
from mirror.models import MirrorSource, MirrorSync, MirrorToken
from versions.models import FROZEN_STATES, Version
from versions.schemes import OCP, OCP_TAGS

# What the feed shows of a version; drafts, reviews, members and descriptors never leave the portal.
FEED_VERSION_FIELDS = (
    "id",
    "listing_id",
    "number",
    "sort_key",
    "build_number",
    "channel",
    "update_notes",
    "components",
    "scopes",
    "pricing",
    "state",
    "published_at",
)


def mirror_token_for(raw: str) -> MirrorToken | None:
    return MirrorToken.active(raw).first()


def feed_versions() -> QuerySet[Version]:
    """Released versions everyone may get: OCP dev/beta/private audiences stay private.

    Listings this portal itself mirrors from an upstream are not passed on: a
    portal offers its own catalogue, so two portals mirroring each other can't loop.
    """
    return (
        Version.objects.filter(
            state__in=FROZEN_STATES,
            listing__visibility=Listing.Visibility.PUBLIC,
            listing__mirrored_from__isnull=True,
        )
        .exclude(Q(listing__scheme=OCP) & Q(channel__in=OCP_TAGS))
        .only(*FEED_VERSION_FIELDS)
    )


def feed_listings() -> QuerySet[Listing]:
    """Public, non-archived listings with at least one released version, each with those versions."""
    return (
        Listing.objects.filter(visibility=Listing.Visibility.PUBLIC, archived_at__isnull=True)
        .filter(mirrored_from__isnull=True)
        .filter(Exists(feed_versions().filter(listing_id=OuterRef("pk"))))
        .select_related("vendor")
        .only("id", "key", "name", "summary", "scheme", "pricing", "vendor__name")
        .prefetch_related(
            Prefetch("versions", queryset=feed_versions().order_by("published_at", "build_number"), to_attr="feed")
        )
        .order_by("key")
    )


def feed_snapshot() -> str:
    """A fingerprint of the whole feed: it changes whenever a listing or a released version does.

    Every page carries it, so a downstream portal notices when the feed changed
    between two pages, and it makes the ETag (one query, whatever the size).
    """
    row = (
        feed_versions()
        .filter(listing__archived_at__isnull=True)
        .aggregate(
            versions=Count("pk"),
            versions_changed=Max("updated_at"),
            last_version=Max("pk"),
            listings=Count("listing_id", distinct=True),
            listings_changed=Max("listing__updated_at"),
        )
    )
    return hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:32]


def mirror_sync_list(*, source: MirrorSource | None = None) -> QuerySet[MirrorSync]:
    qs = MirrorSync.objects.select_related("source")
    return qs.filter(source=source) if source is not None else qs


MAX_RETRY_DELAY = timedelta(hours=24)


def mirror_retry_delay(*, failure_streak: int, interval: timedelta) -> timedelta:
    """How long after a failed sync the next scheduled one waits: the interval, doubled per
    failure in a row, at most a day (an upstream that is down is not hammered every tick)."""
    if failure_streak <= 0:
        return interval
    return min(interval * 2 ** (failure_streak - 1), max(MAX_RETRY_DELAY, interval))


def mirror_sources_due(*, now: datetime | None = None) -> QuerySet[MirrorSource]:
    """Enabled sources whose next scheduled sync has come (failing ones back off)."""
    now = now or timezone.now()
    interval = settings.MIRROR_SYNC_INTERVAL
    # Beat ticks every interval; a little slack keeps a source from skipping a tick by seconds.
    slack = min(interval / 10, timedelta(minutes=5))
    due = [
        source.pk
        for source in MirrorSource.objects.filter(enabled=True).only("pk", "failure_streak", "last_synced_at")
        if source.failure_streak == 0
        or source.last_synced_at is None
        or now - source.last_synced_at
        >= mirror_retry_delay(failure_streak=source.failure_streak, interval=interval) - slack
    ]
    return MirrorSource.objects.filter(pk__in=due).order_by("pk")
