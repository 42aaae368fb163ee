"""Internal market: mirror tokens (upstream side) and the sync of a mirror source (downstream side).

A sync reads every page of the upstream's feed through the SSRF-safe fetcher,
validates every page strictly, and only then changes anything. Each upstream
listing is applied in its own savepoint: one refused listing (a key that a
local listing already holds, a version a local rule refuses) is recorded and
leaves the others alone. Versions are created through versions' own services
with the `mirror` source, so they are released without review and the
existing rollout offers them to local sites (for app groups: to the sites
whose components differ). Syncing an unchanged feed changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from core.errors import ApplicationError
from core.services import audit_event, audit_record, audit_record_many
from marketplace.models import Listing, Vendor
from marketplace.services import LISTING_ACTIVE, LISTING_ARCHIVED, listing_create
from mirror import feed, tasks
from mirror.models import MirroredListing, MirrorSource, MirrorSync, MirrorToken
from versions.fetch import FetchError, fetch_descriptor
from versions.models import Source, Version
from versions.policies import NUMBER_RELEASED_STATES
from versions.services.drafts import version_create
from versions.services.lifecycle import version_submit

logger = logging.getLogger(__name__)

FEED_ACCEPT = "application/json"


# --- upstream side -----------------------------------------------------------------


def mirror_token_create(*, name: str) -> tuple[MirrorToken, str]:
    """A new token for a downstream portal; the raw token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Name the portal that will use the token.", field="name")
    return MirrorToken.issue(name=name[:80])


def mirror_token_revoke(*, token: MirrorToken) -> MirrorToken:
    token.revoke()
    return token


# --- downstream side ---------------------------------------------------------------


class SyncFailed(Exception):
    """The feed could not be read or is not valid: nothing is applied."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class _Feed:
    etag: str = ""
    last_modified: str = ""
    listings: list[feed.FeedListing] = field(default_factory=list)
    pages: int = 0


def _fetch_feed(source: MirrorSource) -> _Feed | None:
    """Every page of the feed, validated; None when the upstream says nothing changed (304)."""
    first_url = feed.feed_url(source.base_url)
    url: str | None = first_url
    result = _Feed()
    snapshot = None
    seen_keys: set[str] = set()
    while url:
        if result.pages >= settings.MIRROR_MAX_PAGES:
            raise SyncFailed(f"The feed has more than {settings.MIRROR_MAX_PAGES} pages (MIRROR_MAX_PAGES).")
        if not feed.same_origin(url, first_url):
            raise SyncFailed(f"next: the page link {url!r} leaves the upstream {first_url!r}.", field="next")
        first = result.pages == 0
        try:
            fetched = fetch_descriptor(
                url,
                etag=source.etag if first else "",
                last_modified=source.last_modified if first else "",
                max_bytes=settings.MIRROR_MAX_BYTES,
                allow_loopback=settings.MIRROR_ALLOW_LOOPBACK,
                extra_headers={"Authorization": f"Mirror {source.token}"},
                accept=FEED_ACCEPT,
                label="mirror feed",
            )
        except FetchError as exc:
            raise SyncFailed(f"{exc.kind}: {exc.message}") from None
        if fetched.not_modified:
            if first:
                return None
            raise SyncFailed("The upstream answered 304 for a later page.")
        try:
            document = json.loads(fetched.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SyncFailed(f"document: page {result.pages + 1} is not JSON ({exc}).", field="document") from None
        try:
            page = feed.validate_feed_page(document)
        except ApplicationError as exc:
            raise SyncFailed(f"page {result.pages + 1}: {exc.message}", field=exc.field or "") from None
        if snapshot is None:
            snapshot = page.snapshot
            result.etag, result.last_modified = fetched.etag, fetched.last_modified
        elif page.snapshot != snapshot:
            raise SyncFailed("snapshot: the feed changed while it was read; the next sync reads it again.")
        for listing in page.listings:
            if listing.key in seen_keys:
                raise SyncFailed(f"results: listing {listing.key!r} appears on two pages.", field="results")
            seen_keys.add(listing.key)
        result.listings.extend(page.listings)
        result.pages += 1
        url = page.next
    return result


def _upstream_vendor(source: MirrorSource) -> Vendor:
    if source.vendor_id:
        return source.vendor
    name = f"Upstream: {source.host}"[:120]
    vendor = Vendor.objects.filter(name=name).first()
    if vendor is None:
        vendor = Vendor.objects.create(
            name=name, slug=slugify(f"upstream-{source.host}")[:60] or f"upstream-{source.pk}"
        )
    source.vendor = vendor
    source.save(update_fields=["vendor"])
    return vendor


@dataclass
class _Counts:
    listings_created: int = 0
    listings_updated: int = 0
    versions_created: int = 0


def _mirror_listing(source: MirrorSource, vendor: Vendor, item: feed.FeedListing, counts: _Counts) -> None:
    """Create or update the local listing of one upstream listing and add its new versions."""
    mapping = MirroredListing.objects.select_related("listing").filter(source=source, upstream_key=item.key).first()
    if mapping is None:
        key = feed.mirrored_key(source.key_prefix, item.key)
        holder = Listing.objects.filter(key=key).first()
        if holder is not None:
            raise ApplicationError(
                f"{item.key}: the local listing {key!r} already exists and is not mirrored from this upstream: "
                "refused to overwrite it (set a key prefix on the source).",
                field="key",
            )
        listing = listing_create(
            vendor=vendor,
            actor=None,
            key=key,
            name=item.name,
            summary=item.summary,
            scheme=feed.local_scheme(item.scheme),
            pricing=item.pricing,
            visibility=Listing.Visibility.PUBLIC,
        )
        MirroredListing.objects.create(
            source=source, upstream_key=item.key, listing=listing, upstream_vendor=item.vendor
        )
        counts.listings_created += 1
    else:
        listing = Listing.objects.select_for_update().get(pk=mapping.listing_id)
        if listing.scheme != feed.local_scheme(item.scheme):
            raise ApplicationError(
                f"{item.key}: the upstream changed the scheme to {item.scheme}: versions can't follow.",
                field="scheme",
            )
        changed = [
            name
            for name, value in (("name", item.name), ("summary", item.summary), ("pricing", item.pricing))
            if getattr(listing, name) != value
        ]
        changes = {name: {"from": getattr(listing, name), "to": getattr(item, name)} for name in changed}
        for name in changed:
            setattr(listing, name, getattr(item, name))
        was_archived = listing.archived_at is not None
        if was_archived:  # listed upstream again
            listing.archived_at = None
            changed.append("archived_at")
        if changed:
            listing.save(update_fields=[*changed, "updated_at"])
            audit_record(
                actor=None,
                action="listing.unarchive" if was_archived else "listing.update",
                obj=listing,
                object_repr=listing.key,
                from_state=LISTING_ARCHIVED if was_archived else LISTING_ACTIVE,
                to_state=LISTING_ACTIVE,
                details={"changes": changes, "reason": f"mirrored from {source.host}"},
            )
        vendor_changed = mapping.upstream_vendor != item.vendor
        if vendor_changed:
            mapping.upstream_vendor = item.vendor
            mapping.save(update_fields=["upstream_vendor", "updated_at"])
        if changed or vendor_changed:
            counts.listings_updated += 1
    have = set(
        Version.objects.filter(listing=listing)
        .exclude(state__in=NUMBER_RELEASED_STATES)
        .values_list("number", flat=True)
    )
    highest_build = Version.objects.filter(listing=listing).aggregate(m=Max("build_number"))["m"] or 0
    for upstream in item.versions:  # in the order they went live upstream
        if upstream.number in have:
            continue
        try:
            version = version_create(
                listing=listing,
                actor=None,
                number=upstream.number,
                channel=upstream.channel,
                update_notes=upstream.update_notes,
                scopes=upstream.scopes,
                pricing=upstream.pricing,
                components=upstream.components,
                # Keep the upstream build number when it still fits (customers' hosts compare it).
                build_number=upstream.build_number if upstream.build_number > highest_build else None,
                source=Source.MIRROR,
            )
            version_submit(version=version, actor=None, comment=f"mirrored from {source.host}")
        except ApplicationError as exc:
            raise ApplicationError(f"{item.key}@{upstream.number}: {exc.message}", field=exc.field) from exc
        highest_build = max(highest_build, version.build_number)
        have.add(upstream.number)
        counts.versions_created += 1


def _archive_missing(source: MirrorSource, seen: set[str]) -> int:
    """Listings the upstream no longer lists (archived or made private there) are archived here."""
    gone = list(
        MirroredListing.objects.filter(source=source, listing__archived_at__isnull=True)
        .exclude(upstream_key__in=seen)
        .values_list("listing_id", "listing__key")
    )
    if not gone:
        return 0
    now = timezone.now()
    count = Listing.objects.filter(pk__in=[pk for pk, _ in gone]).update(archived_at=now)
    audit_record_many(
        audit_event(
            actor=None,
            action="listing.archive",
            object_type="marketplace.listing",
            object_id=pk,
            object_repr=key,
            from_state=LISTING_ACTIVE,
            to_state=LISTING_ARCHIVED,
            details={"reason": f"no longer listed by the upstream {source.host}"},
            at=now,
        )
        for pk, key in gone
    )
    return count


def _sync_audit(sync: MirrorSync, action: str, *, from_state: str, at=None, **details) -> None:
    audit_record(
        actor=None,
        action=f"mirror_sync.{action}",
        obj=sync,
        object_repr=f"{sync.source.host} {sync.started_at:%Y-%m-%d %H:%M}",
        from_state=from_state,
        to_state=sync.outcome,
        details={"source_id": sync.source_id, "trigger": sync.trigger, **details},
        at=at,
    )


@transaction.atomic
def _finish(sync: MirrorSync, source: MirrorSource, outcome: str, *, error: str = "") -> MirrorSync:
    now = timezone.now()
    sync.outcome, sync.finished_at, sync.error = outcome, now, error[:4000]
    sync.save()
    failed = outcome == MirrorSync.Outcome.FAILED
    _sync_audit(
        sync,
        "fail" if failed else "finish",
        from_state=MirrorSync.Outcome.RUNNING,
        at=now,
        **({"reason": sync.error} if failed else {"summary": sync.summary}),
    )
    source.last_synced_at = now
    if outcome in (MirrorSync.Outcome.SYNCED, MirrorSync.Outcome.NOT_MODIFIED):
        source.last_success_at, source.last_error, source.failure_streak = now, "", 0
    else:
        source.last_error = error[:4000] or sync.summary
        source.failure_streak += 1
    source.save(
        update_fields=["last_synced_at", "last_success_at", "last_error", "failure_streak", "etag", "last_modified"]
    )
    return sync


def mirror_sync(*, source: MirrorSource, trigger: str = MirrorSync.Trigger.SCHEDULE) -> MirrorSync:
    """Sync one source; returns the sync record. Never raises for upstream problems: they are recorded."""
    source = MirrorSource.objects.get(pk=source.pk)
    if not source.enabled and trigger == MirrorSync.Trigger.SCHEDULE:
        raise ApplicationError(f"The mirror source {source} is disabled.", field="enabled")
    with transaction.atomic():
        sync = MirrorSync.objects.create(source=source, trigger=trigger)
        _sync_audit(sync, "start", from_state="", at=sync.started_at)
    try:
        fetched = _fetch_feed(source)  # the network, outside any transaction or lock
    except SyncFailed as exc:
        logger.warning("mirror sync of %s failed: %s", source, exc.message)
        return _finish(sync, source, MirrorSync.Outcome.FAILED, error=exc.message)
    if fetched is None:
        return _finish(sync, source, MirrorSync.Outcome.NOT_MODIFIED)
    counts = _Counts()
    with transaction.atomic():
        # One sync of a source at a time: beat and "sync now" may overlap.
        source = MirrorSource.objects.select_for_update().get(pk=source.pk)
        vendor = _upstream_vendor(source)
        for item in fetched.listings:
            try:
                with transaction.atomic():
                    _mirror_listing(source, vendor, item, counts)
            except ApplicationError as exc:
                message = exc.message if exc.message.startswith(item.key) else f"{item.key}: {exc.message}"
                sync.errors.append({"listing": item.key, "field": exc.field or "", "message": message})
            except IntegrityError as exc:  # a concurrent local write took the key or number
                sync.errors.append({"listing": item.key, "field": "key", "message": f"{item.key}: {exc}"[:500]})
        archived = _archive_missing(source, {item.key for item in fetched.listings})
        sync.pages, sync.listings_seen = fetched.pages, len(fetched.listings)
        sync.listings_created, sync.listings_updated = counts.listings_created, counts.listings_updated
        sync.versions_created, sync.listings_archived = counts.versions_created, archived
        if sync.errors:
            # Keep no validator: the next sync must read the feed again once the refusal is fixed here.
            source.etag, source.last_modified = "", ""
            return _finish(sync, source, MirrorSync.Outcome.PARTIAL, error=sync.summary)
        source.etag, source.last_modified = fetched.etag, fetched.last_modified
        return _finish(sync, source, MirrorSync.Outcome.SYNCED)


def mirror_sync_all(*, trigger: str = MirrorSync.Trigger.SCHEDULE) -> list[MirrorSync]:
    from mirror.selectors import mirror_sources_due

    return [mirror_sync(source=source, trigger=trigger) for source in mirror_sources_due()]


def mirror_syncs_enqueue_due() -> int:
    """Beat: prune the history, then one sync task per due source (each runs on its own, so one
    slow upstream holds up no other); returns how many were queued."""
    from mirror.selectors import mirror_sources_due

    mirror_sync_prune()
    ids = list(mirror_sources_due().values_list("pk", flat=True))
    # Nothing written here waits to commit (the prune is independent of the syncs): enqueue at once.
    for source_id in ids:
        tasks.poll_mirror_source.delay(source_id)
    return len(ids)


# A sync task is killed after its hard time limit (a few minutes); a row still "running"
# well after that belongs to a worker that stopped mid-way.
STALE_RUNNING_AFTER = timedelta(minutes=15)


def mirror_sync_prune() -> int:
    """Forget syncs older than MIRROR_SYNC_HISTORY_DAYS (an hourly beat makes 8,760 a year per source),
    and close syncs whose worker stopped mid-way so the history does not say "running" forever."""
    now = timezone.now()
    error = (
        "Interrupted: the sync did not finish (the worker stopped or hit its time limit); its changes were "
        "rolled back, and the next sync starts over."
    )
    with transaction.atomic():
        stale = list(
            MirrorSync.objects.select_for_update(of=("self",))
            .filter(outcome=MirrorSync.Outcome.RUNNING, started_at__lt=now - STALE_RUNNING_AFTER)
            .values_list("pk", "source_id", "source__base_url", "started_at")
        )
        MirrorSync.objects.filter(pk__in=[row[0] for row in stale]).update(
            outcome=MirrorSync.Outcome.FAILED, finished_at=now, error=error
        )
        audit_record_many(
            audit_event(
                actor=None,
                action="mirror_sync.fail",
                object_type="mirror.mirrorsync",
                object_id=pk,
                object_repr=f"{base_url} {started_at:%Y-%m-%d %H:%M}",
                from_state=MirrorSync.Outcome.RUNNING,
                to_state=MirrorSync.Outcome.FAILED,
                details={"source_id": source_id, "reason": error},
                at=now,
            )
            for pk, source_id, base_url, started_at in stale
        )
    deleted, _ = MirrorSync.objects.filter(started_at__lt=now - settings.MIRROR_SYNC_HISTORY).delete()
    return deleted
