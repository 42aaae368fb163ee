"""Release controls (issue #16): re-release an older version as a new, higher one, and schedule a publish.

Re-release (a rollback that only moves forward): the new version gets the next
number the listing's scheme allows above the channel's highest released one
(versions.schemes.rerelease_bump/rerelease_number) and the old version's
content; it skips review only when that content was reviewed before and the
live version's sites would be asked for nothing new
(versions.policies.rerelease_review_reason). Sites move to it through the
normal rollout (hooks.version_published).

Scheduled publish: an approved version carries `publish_at`; the beat task
(versions.tasks.publish_scheduled_versions) calls `versions_publish_due`, which
publishes each due one exactly once: the row is taken with
SELECT ... FOR UPDATE SKIP LOCKED and re-checked (still approved, still due)
before it goes live, so two workers never publish the same version and a run
after the publish finds nothing to do.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require_second_factor, require_verified_email
from core.errors import ApplicationError, TransitionNotAllowed
from core.services import audit_record
from marketplace.permissions import require_vendor_member
from marketplace.selectors import scope_catalogue
from versions.models import State, Version
from versions.policies import RELEASED_STATES, rerelease_review_reason, upgrade_requires_consent
from versions.schemes import OCP
from versions.selectors import last_published, version_content_reviewed, version_rerelease_plan
from versions.services._rules import _lock, _lock_listing, _transition
from versions.services.drafts import version_create
from versions.services.lifecycle import _release, _validate_for_release, version_submit
from versions.validation import UPDATE_NOTES_MAX

# How far ahead a publish may be scheduled.
SCHEDULE_HORIZON = timedelta(days=365)
# At most this many due versions per beat run (the next run takes the rest).
PUBLISH_DUE_BATCH = 100


# --- re-release ------------------------------------------------------------------------------


def _rerelease_notes(version: Version, notes: str) -> str:
    notes = (notes or "").strip()
    if notes:
        return notes
    text = f"Re-release of {version.number}: {version.update_notes}"
    return text if len(text) <= UPDATE_NOTES_MAX else text[: UPDATE_NOTES_MAX - 1] + "…"


def version_rerelease(*, version: Version, actor: Any, update_notes: str = "", publish: bool = True) -> Version:
    """Re-release a released version: a new, higher version with its content, marked as its re-release.

    `publish`: when the re-release skips review, publish it right away (True)
    or leave it approved for the vendor to publish or schedule (False). When it
    needs review it is submitted like any other version, and the reason is in
    its audit row.
    """
    listing = version.listing
    require_vendor_member(actor, listing.vendor_id)
    if version.state not in RELEASED_STATES:
        raise TransitionNotAllowed(
            f"Only released versions can be re-released; {version} is {version.get_state_display().lower()}."
        )
    if version.state == State.PUBLISHED:
        raise TransitionNotAllowed(
            f"{version} is the live version of channel {version.channel!r}: re-release an older version to roll back to it."
        )
    if listing.archived_at is not None:
        raise ApplicationError(f"Listing {listing.key} is archived.", field="listing")
    with transaction.atomic():
        # The listing lock serialises numbering: two re-releases at once get two numbers.
        _lock_listing(listing.pk)
        plan = version_rerelease_plan(version=version)
        copy = version_create(
            listing=listing,
            actor=actor,
            number=plan.number,
            update_notes=_rerelease_notes(version, update_notes),
            scopes=list(version.scopes),
            pricing=version.pricing,
            api_version=version.api_version,
            channel=None if listing.scheme == OCP else version.channel,
            compatibility=list(version.compatibility),
            components=list(version.components),
            descriptor=version.descriptor,
        )
        copy.rereleased_from = version
        copy.save(update_fields=["rereleased_from", "updated_at"])
        live = last_published(listing, copy.channel)
        consent = upgrade_requires_consent(live, copy, listing, catalogue=scope_catalogue()) if live else []
        reason = rerelease_review_reason(
            matches_reviewed=version_content_reviewed(version=copy, exclude_pk=copy.pk), consent=consent
        )
        audit_record(
            actor=actor,
            action="version.rerelease",
            obj=copy,
            object_repr=f"{listing.key}@{copy.number}",
            details={
                "rereleased_from": version.pk,
                "rereleased_from_number": version.number,
                "live_number": live.number if live else None,
                "review": reason or "skipped",
            },
        )
        if reason is not None:
            return version_submit(
                version=copy, actor=actor, comment=f"re-release of {version.number}: reviewed because {reason}"
            )
        copy = _lock(copy)
        _validate_for_release(copy)
        why = (
            f"re-release of {version.number}: review skipped (content identical to a reviewed version and "
            f"no new consent versus the live {live.number if live else 'channel'})"
        )
        if not publish:
            return _transition(copy, "approve_rerelease", actor=actor, comment=why)
        require_verified_email(actor, action="publish a version")
        require_second_factor(actor, action="publish a version")
        return _release(copy, actor=actor, comment=why)


# --- scheduled publish -----------------------------------------------------------------------


def publish_time_from_local(*, local: datetime, time_zone: str) -> datetime:
    """An aware UTC instant from a wall-clock time typed in `time_zone` (pure; raises naming the field).

    A time that does not exist in the zone (skipped by a daylight-saving change)
    is refused rather than guessed; an ambiguous one (the repeated hour) takes
    the first occurrence.
    """
    try:
        zone = zoneinfo.ZoneInfo((time_zone or "").strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(
            f"Time zone {time_zone!r} is not a known IANA time zone (for example Europe/Berlin).", field="time_zone"
        ) from None
    if timezone.is_aware(local):
        return local.astimezone(zoneinfo.ZoneInfo("UTC"))
    aware = local.replace(tzinfo=zone, fold=0)
    roundtrip = aware.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(zone)
    if roundtrip.replace(tzinfo=None) != local:
        raise ApplicationError(
            f"Publish time {local:%Y-%m-%d %H:%M} does not exist in {time_zone} (the clocks skip it): pick another time.",
            field="publish_at",
        )
    return aware.astimezone(zoneinfo.ZoneInfo("UTC"))


def version_schedule_publish(*, version: Version, actor: Any, publish_at: datetime, time_zone: str = "UTC") -> Version:
    """Schedule (or move) the publish of an approved version; beat publishes it at `publish_at`."""
    if not isinstance(publish_at, datetime) or timezone.is_naive(publish_at):
        raise ApplicationError("Publish time must be a date and time with its time zone.", field="publish_at")
    time_zone = (time_zone or "UTC").strip()
    if time_zone not in zoneinfo.available_timezones():
        raise ApplicationError(
            f"Time zone {time_zone!r} is not a known IANA time zone (for example Europe/Berlin).", field="time_zone"
        )
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member(actor, version.listing.vendor_id)
        # Whoever schedules a publish publishes: the same checks as the Publish button.
        require_verified_email(actor, action="schedule a publish")
        require_second_factor(actor, action="schedule a publish")
        if version.state != State.APPROVED:
            raise TransitionNotAllowed(
                f"Only approved versions can be scheduled to publish; {version} is {version.get_state_display().lower()}."
            )
        now = timezone.now()
        if publish_at <= now:
            local_now = now.astimezone(zoneinfo.ZoneInfo(time_zone))
            raise ApplicationError(
                f"Publish time must be in the future (it is {local_now:%Y-%m-%d %H:%M} in {time_zone} now).",
                field="publish_at",
            )
        if publish_at > now + SCHEDULE_HORIZON:
            raise ApplicationError("Publish time must be within a year from now.", field="publish_at")
        previous = version.publish_at
        version.publish_at = publish_at
        version.publish_time_zone = time_zone
        version.publish_scheduled_by = actor
        version.save(update_fields=["publish_at", "publish_time_zone", "publish_scheduled_by", "updated_at"])
        audit_record(
            actor=actor,
            action="version.reschedule_publish" if previous else "version.schedule_publish",
            obj=version,
            object_repr=f"{version.listing.key}@{version.number}",
            details={
                "publish_at": publish_at.isoformat(),
                "time_zone": time_zone,
                "previous_publish_at": previous.isoformat() if previous else None,
            },
        )
        return version


def version_unschedule_publish(*, version: Version, actor: Any) -> Version:
    """Cancel a scheduled publish; the version stays approved."""
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member(actor, version.listing.vendor_id)
        if version.publish_at is None:
            raise ApplicationError(f"{version} has no scheduled publish to cancel.", field="publish_at")
        previous = version.publish_at
        version.publish_at = None
        version.publish_scheduled_by = None
        version.save(update_fields=["publish_at", "publish_scheduled_by", "updated_at"])
        audit_record(
            actor=actor,
            action="version.unschedule_publish",
            obj=version,
            object_repr=f"{version.listing.key}@{version.number}",
            details={"previous_publish_at": previous.isoformat(), "time_zone": version.publish_time_zone},
        )
        return version


def versions_publish_due(*, now: datetime | None = None) -> list[int]:
    """Publish every approved version whose scheduled time came; returns the ids published.

    Each version in its own transaction, taken with SKIP LOCKED: a second
    worker running at the same time skips it, and the re-check inside the lock
    (still approved, still due) makes a late or repeated run a no-op. A publish
    the rules now refuse (a higher version went live meanwhile, the listing was
    archived) drops the schedule with an audit row saying why, instead of
    failing on every run.
    """
    now = now or timezone.now()
    due = list(
        Version.objects.filter(state=State.APPROVED, publish_at__lte=now)
        .order_by("publish_at", "pk")
        .values_list("pk", flat=True)[:PUBLISH_DUE_BATCH]
    )
    published: list[int] = []
    for pk in due:
        with transaction.atomic():
            version = (
                Version.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("listing")
                .filter(pk=pk, state=State.APPROVED, publish_at__lte=now)
                .first()
            )
            if version is None:
                continue  # taken by another worker, published, withdrawn or moved meanwhile
            scheduled_at, by = version.publish_at, version.publish_scheduled_by
            comment = f"scheduled publish (set for {scheduled_at:%Y-%m-%d %H:%M} UTC" + (
                f" by {by.get_username()})" if by else ")"
            )
            version.publish_at = None
            try:
                with transaction.atomic():
                    _release(version, actor=None, comment=comment)
            except ApplicationError as exc:
                version = Version.objects.get(pk=pk)
                version.publish_at = None
                version.save(update_fields=["publish_at", "updated_at"])
                audit_record(
                    actor=None,
                    action="version.scheduled_publish_failed",
                    obj=version,
                    object_repr=f"{version.listing.key}@{version.number}",
                    details={"publish_at": scheduled_at.isoformat(), "error": exc.message},
                )
                continue
            published.append(pk)
    return published
