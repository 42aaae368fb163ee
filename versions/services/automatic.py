"""Automatic versions: descriptor polls (connect) and deploys (forge).

The number, scopes, pricing and API version of an automatic version come from
the descriptor (versions.descriptors decides the bump); the lifecycle is the
one in versions.services: `version_create` then `version_submit`, which
releases system versions at once except free -> paid, which waits for review.

Idempotency: a descriptor whose canonical hash equals the live version's, or a
version of the listing still on its way (draft, pending, in review, approved),
creates nothing. The listing row is locked while deciding, so two polls (or two
deploys) of the same descriptor running at once make one version.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import ApplicationError
from marketplace.models import Listing
from marketplace.permissions import require_vendor_member
from marketplace.selectors import scope_catalogue
from versions import descriptors, tasks
from versions.descriptors import Descriptor, DescriptorDiff, DescriptorError, DiffReport
from versions.fetch import FetchError, fetch_descriptor
from versions.models import Deploy, DescriptorPoll, DescriptorPollState, Source, State, Version
from versions.numbers import PATCH
from versions.services import last_published, version_create, version_submit

logger = logging.getLogger(__name__)

# Versions that are on their way to customers: a descriptor equal to one of these is not new.
ON_THE_WAY = (State.DRAFT, State.PENDING_APPROVAL, State.IN_REVIEW, State.APPROVED, State.PUBLISHED)
KEY_CHANGED = "key_changed"
INVALID_DESCRIPTOR = "invalid_descriptor"
VERSION_REFUSED = "version_refused"
INTERNAL_ERROR = "internal_error"
# "Poll now" at most this often per listing: the button must not turn the portal into a request cannon.
POLL_NOW_MIN_INTERVAL_SECONDS = 10
# Spread a tick's polls over this share of the tick, so the next tick starts on a quiet queue.
SPREAD_SHARE = 0.8
# Listings whose claim is written in one UPDATE (keeps the statement's parameters few).
CLAIM_BATCH = 500


@dataclass(frozen=True)
class Ingested:
    """What a descriptor led to: a new version, or the existing one it equals."""

    version: Version | None
    created: bool
    diff: DescriptorDiff | None
    descriptor: Descriptor
    # The live descriptor the diff compared with (None for a listing's first version).
    previous: dict[str, Any] | None = None


# --- the pre-flight diff -----------------------------------------------------------


def descriptor_diff(*, old: Any, new: Any, scheme: str, from_number: str | None = None) -> DiffReport:
    """The vendor's pre-flight: what a new descriptor would do (no writes)."""
    if scheme not in descriptors.DESCRIPTOR_SCHEMES:
        raise ApplicationError("Scheme must be connect or forge.", field="scheme")
    return descriptors.diff_documents(old, new, scheme=scheme, catalogue=scope_catalogue(), from_number=from_number)


# --- ingesting a descriptor (shared by polls, deploys and the demo seed) ----------------------


def _previous_descriptor(listing: Listing, published: Version) -> Descriptor:
    if published.descriptor:
        try:
            return descriptors.parse_descriptor(listing.scheme, published.descriptor)
        except DescriptorError:
            logger.warning("stored descriptor of %s does not parse any more; comparing the snapshot", published)
    return descriptors.snapshot_descriptor(
        listing.scheme,
        key=_stored_key(listing, published) or "",
        scopes=list(published.scopes),
        paid=published.pricing == "paid",
        api_version=published.api_version,
    )


def _stored_key(listing: Listing, version: Version) -> str | None:
    document = version.descriptor or {}
    if listing.scheme == descriptors.FORGE:
        return (document.get("app") or {}).get("id")
    return document.get("key")


def _free_number(listing: Listing, number: Any) -> Any:
    """Next PATCH until the number is free (a version under review may hold the computed one)."""
    while Version.objects.filter(listing=listing, number=number.text).exists():
        number = number.bump(PATCH)
    return number


def descriptor_ingest(*, listing: Listing, raw: Any, source: str, actor: Any = None, comment: str = "") -> Ingested:
    """Turn a descriptor into the listing's next version, or find the version it already is.

    Raises DescriptorError (invalid, key changed) and ApplicationError (the
    version was refused); nothing is written then.
    """
    descriptor = descriptors.parse_descriptor(listing.scheme, raw)
    catalogue = scope_catalogue()
    with transaction.atomic():
        # One decision per listing at a time: concurrent polls/deploys of one descriptor make one version.
        listing = Listing.objects.select_for_update().get(pk=listing.pk)
        existing = (
            Version.objects.filter(listing=listing, descriptor_hash=descriptor.hash, state__in=ON_THE_WAY)
            .order_by("-build_number")
            .first()
        )
        published = last_published(listing, "release")
        previous = None
        if published is not None:
            previous = _previous_descriptor(listing, published)
            if not previous.key:  # a hand-made version without a descriptor: adopt the key
                previous = descriptors.snapshot_descriptor(
                    listing.scheme,
                    descriptor.key,
                    scopes=list(previous.scopes),
                    paid=previous.paid,
                    api_version=previous.api_version,
                )
            diff = descriptors.diff_descriptors(previous, descriptor, catalogue)
        else:
            diff = descriptors.first_version_diff(descriptor)
        if existing is not None:
            return Ingested(existing, False, diff, descriptor, previous.canonical if previous else None)
        if published is not None and not diff.changed:
            return Ingested(published, False, diff, descriptor, previous.canonical if previous else None)
        number = _free_number(listing, diff.next_number(published.parsed_number if published else None))
        version = version_create(
            listing=listing,
            actor=actor,
            number=number.text,
            update_notes=diff.update_notes(),
            scopes=list(descriptor.scopes),
            pricing=descriptor.pricing,
            api_version=descriptor.api_version,
            descriptor=descriptor.canonical,
            source=source,
        )
        reasons = "; ".join(diff.reasons)
        version = version_submit(version=version, actor=actor, comment=comment or f"{source}: {reasons}"[:1000])
        transaction.on_commit(partial(tasks.send_auto_version_email.delay, version.pk))
    return Ingested(version, True, diff, descriptor, previous.canonical if previous else None)


# --- polling (connect) -----------------------------------------------------------------------


def pollable_listings() -> QuerySet[Listing]:
    """Connect listings with a descriptor URL that are not archived."""
    return Listing.objects.filter(scheme=descriptors.CONNECT, archived_at__isnull=True).exclude(descriptor_url="")


def poll_cadence() -> timedelta:
    """How long after a poll the listing is due again, so polls are never more than
    DESCRIPTOR_POLL_INTERVAL apart.

    A due listing waits at most one dispatch tick to be seen, then at most one more
    tick for its place in the spread, then for the queue: all of that is taken off
    the interval up front.
    """
    interval = settings.DESCRIPTOR_POLL_INTERVAL
    slack = 2 * settings.DESCRIPTOR_POLL_DISPATCH_EVERY + settings.DESCRIPTOR_POLL_QUEUE_ALLOWANCE
    return max(interval - slack, interval / 2)


def _due(now: datetime) -> Q:
    return Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)


def listings_due_for_poll(*, now: datetime | None = None) -> QuerySet[Listing]:
    """Pollable listings whose next-poll time came (or that were never polled)."""
    now = now or timezone.now()
    return pollable_listings().filter(
        Q(poll_state__isnull=True) | Q(poll_state__next_poll_at__isnull=True) | Q(poll_state__next_poll_at__lte=now)
    )


def descriptor_polls_claim_due(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """Claim every due listing for one poll: returns (listing id, countdown in seconds) pairs.

    The claim pushes the listing's next-poll time one queue allowance ahead, so the
    next tick does not enqueue it again while it waits; the poll itself then sets
    the real next time (poll_cadence). A poll lost on the way (a worker killed) is
    claimed again once the allowance passed. The countdowns spread the polls over
    80 % of a tick: hundreds of listings do not hit vendors' servers in one second.
    """
    now = now or timezone.now()
    missing = list(listings_due_for_poll(now=now).filter(poll_state__isnull=True).values_list("pk", flat=True))
    if missing:
        DescriptorPollState.objects.bulk_create(
            [DescriptorPollState(listing_id=pk) for pk in missing], ignore_conflicts=True
        )
    with transaction.atomic():
        # skip_locked: two dispatchers at once (beat and `poll_descriptors --enqueue`) split the work.
        ids = list(
            DescriptorPollState.objects.select_for_update(skip_locked=True)
            .filter(_due(now), listing_id__in=pollable_listings().values("pk"))
            .order_by("next_poll_at", "listing_id")
            .values_list("listing_id", flat=True)
        )
        claimed_until = now + settings.DESCRIPTOR_POLL_QUEUE_ALLOWANCE
        for start in range(0, len(ids), CLAIM_BATCH):
            DescriptorPollState.objects.filter(listing_id__in=ids[start : start + CLAIM_BATCH]).update(
                next_poll_at=claimed_until
            )
    if not ids:
        return []
    step = settings.DESCRIPTOR_POLL_DISPATCH_EVERY.total_seconds() * SPREAD_SHARE / len(ids)
    return [(listing_id, int(index * step)) for index, listing_id in enumerate(ids)]


def descriptor_polls_enqueue_due() -> int:
    """Beat, every few minutes: enqueue one poll per due listing, spread over the tick; returns how many."""
    plan = descriptor_polls_claim_due()
    for listing_id, countdown in plan:
        tasks.poll_descriptor.apply_async(args=(listing_id, DescriptorPoll.Trigger.SCHEDULE), countdown=countdown)
    if plan:
        logger.info("queued %d descriptor polls", len(plan))
    return len(plan)


def listing_poll_descriptor(
    *,
    listing: Listing,
    trigger: str = DescriptorPoll.Trigger.SCHEDULE,
    requested_by: Any = None,
    now: datetime | None = None,
) -> DescriptorPoll:
    """Fetch the listing's descriptor, make a version when it changed, and record the poll.

    The HTTP fetch runs outside any transaction (no lock is held while waiting on
    a vendor's server). Every outcome, failures included, is one DescriptorPoll row.
    """
    if listing.scheme != descriptors.CONNECT:
        raise ApplicationError(f"{listing.key} uses the {listing.scheme} scheme: only connect listings are polled.")
    if not listing.descriptor_url:
        raise ApplicationError(f"{listing.key} has no descriptor URL to poll.", field="descriptor_url")
    state, _ = DescriptorPollState.objects.get_or_create(listing=listing)
    started = time.monotonic()
    record: dict[str, Any] = {
        "listing": listing,
        "url": listing.descriptor_url,
        "trigger": trigger,
        "requested_by": requested_by if getattr(requested_by, "is_authenticated", False) else None,
    }
    result = None
    try:
        result = fetch_descriptor(listing.descriptor_url, etag=state.etag, last_modified=state.last_modified)
        record.update(http_status=result.status, etag=result.etag)
        if result.not_modified:
            record["outcome"] = DescriptorPoll.Outcome.NOT_MODIFIED
        else:
            ingested = descriptor_ingest(listing=listing, raw=result.body, source=Source.POLL)
            record.update(
                descriptor_hash=ingested.descriptor.hash,
                version=ingested.version,
                outcome=DescriptorPoll.Outcome.VERSION_CREATED
                if ingested.created
                else DescriptorPoll.Outcome.UNCHANGED,
            )
            if ingested.created and ingested.diff is not None:
                record.update(
                    bump=ingested.diff.bump or "",
                    reasons=list(ingested.diff.reasons),
                    bump_reason=ingested.diff.bump_reason,
                    changes=descriptors.document_changes(ingested.previous, ingested.descriptor.canonical),
                )
    except FetchError as exc:
        record.update(outcome=DescriptorPoll.Outcome.FAILED, error_kind=exc.kind, error=exc.message)
        if exc.status:
            record["http_status"] = exc.status
    except DescriptorError as exc:
        kind = KEY_CHANGED if exc.code == KEY_CHANGED else INVALID_DESCRIPTOR
        record.update(outcome=DescriptorPoll.Outcome.FAILED, error_kind=kind, error=exc.message)
    except ApplicationError as exc:
        record.update(outcome=DescriptorPoll.Outcome.FAILED, error_kind=VERSION_REFUSED, error=exc.message)
    except Exception:
        logger.exception("descriptor poll of %s failed unexpectedly", listing.key)
        record.update(
            outcome=DescriptorPoll.Outcome.FAILED,
            error_kind=INTERNAL_ERROR,
            error="The portal could not process this descriptor (an internal error, logged for the marketplace team).",
        )
    record["duration_ms"] = int((time.monotonic() - started) * 1000)
    return _record_poll(state_id=state.pk, record=record, result=result, now=now)


def _record_poll(*, state_id: int, record: dict[str, Any], result: Any, now: datetime | None) -> DescriptorPoll:
    with transaction.atomic():
        state = DescriptorPollState.objects.select_for_update().get(pk=state_id)
        poll = DescriptorPoll.objects.create(**record)
        now = now or timezone.now()
        state.last_polled_at = now
        # Failed or not, the listing was polled: the next one comes one cadence later.
        state.next_poll_at = now + poll_cadence()
        if poll.failed:
            state.failure_streak += 1
            if state.streak_notified_at is None:
                # One e-mail per failure streak: the first failure after a success.
                state.streak_notified_at = now
                transaction.on_commit(partial(tasks.send_poll_failure_email.delay, poll.pk))
        else:
            state.failure_streak = 0
            state.streak_notified_at = None
            state.last_success_at = now
            if result is not None and not result.not_modified:
                state.etag = result.etag
                state.last_modified = result.last_modified
        state.save()
    return poll


def listing_request_poll(*, listing: Listing, actor: Any) -> None:
    """The vendor's "Poll now": queue a poll of this listing's descriptor at once."""
    require_vendor_member(actor, listing.vendor_id)
    if listing.scheme != descriptors.CONNECT:
        raise ApplicationError(f"{listing.key} uses the {listing.scheme} scheme: only connect listings are polled.")
    if not listing.descriptor_url:
        raise ApplicationError("Set a descriptor URL on the listing before polling it.", field="descriptor_url")
    if listing.archived_at is not None:
        raise ApplicationError(f"Listing {listing.key} is archived.", field="listing")
    if not cache.add(f"descriptor-poll-now:{listing.pk}", 1, timeout=POLL_NOW_MIN_INTERVAL_SECONDS):
        raise ApplicationError(
            f"A poll of {listing.key} was requested less than {POLL_NOW_MIN_INTERVAL_SECONDS} seconds ago; "
            "its result appears in the poll history shortly."
        )
    transaction.on_commit(partial(tasks.poll_descriptor.delay, listing.pk, DescriptorPoll.Trigger.MANUAL, actor.pk))


# --- deploys (forge) ----------------------------------------------------------------------------


def deploy_create(*, listing: Listing, actor: Any, manifest: Any) -> tuple[Deploy, bool]:
    """A vendor's production deploy: the next version by the forge rules.

    Idempotent by the manifest's canonical hash: the same manifest again returns
    the version it made the first time (created=False).
    """
    require_vendor_member(actor, listing.vendor_id)
    if listing.scheme != descriptors.FORGE:
        raise ApplicationError(
            f"{listing.key} uses the {listing.scheme} scheme: deploys are for forge listings.", field="listing"
        )
    if listing.archived_at is not None:
        raise ApplicationError(f"Listing {listing.key} is archived.", field="listing")
    if manifest is None or manifest == "" or manifest == {}:
        raise DescriptorError("A deploy needs the app's manifest (YAML or JSON).", field="manifest")
    try:
        ingested = descriptor_ingest(listing=listing, raw=manifest, source=Source.DEPLOY, actor=actor)
    except DescriptorError as exc:
        if exc.field in ("descriptor", None):
            exc.field = "manifest"
        raise
    deploy = Deploy.objects.create(
        listing=listing,
        actor=actor,
        manifest_hash=ingested.descriptor.hash,
        version=ingested.version,
        created_version=ingested.created,
    )
    return deploy, ingested.created


def poll_history(*, listing: Listing, limit: int = 20) -> QuerySet[DescriptorPoll]:
    return (
        DescriptorPoll.objects.filter(listing=listing)
        .select_related("version", "requested_by")
        .order_by("-polled_at", "-id")[:limit]
    )


def last_poll_id(*, listing: Listing) -> int:
    """The id of the listing's newest poll (0: none yet); the page waits for a newer one after "Poll now"."""
    return DescriptorPoll.objects.filter(listing=listing).order_by("-id").values_list("id", flat=True).first() or 0
