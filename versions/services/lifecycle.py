"""Every write on versions: create, update, the lifecycle transitions, duplicate.

Each transition service runs in one transaction with the version row locked
(SELECT ... FOR UPDATE on PostgreSQL; IMMEDIATE transactions on SQLite), checks
permissions and `can_proceed`, calls the pure transition method, saves, and
writes exactly one VersionTransition row. Two concurrent transitions on one
version therefore serialise: the second sees the first one's state and is
refused with a clear TransitionNotAllowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django_fsm import can_proceed

from marketplace.errors import ApplicationError, TransitionNotAllowed
from marketplace.models import HostProduct, Listing
from marketplace.permissions import (
    require_reviewer_for,
    require_vendor_member,
    require_vendor_member_or_staff,
)
from marketplace.scopes import scope_change
from marketplace.selectors import scope_catalogue
from versions import validation
from versions.models import (
    DUPLICABLE_STATES,
    EDIT_RETURNS_TO_DRAFT,
    FROZEN_STATES,
    SNAPSHOT_FIELDS,
    Source,
    State,
    Version,
    VersionTransition,
)
from versions.numbers import PATCH, VersionNumber, VersionNumberError, parse_version
from versions.schemes import BUNDLE, MANUAL, channel_for, check_manual_bump, skips_review

SYSTEM_SOURCES = (Source.POLL, Source.DEPLOY, Source.SHARE, Source.MIRROR)
# Numbers held by these states can't be reused by another version of the listing.
NUMBER_RELEASED_STATES = (State.CANCELED, State.REJECTED)

TRANSITION_LABELS = {
    "submit": "submit",
    "start_review": "start the review of",
    "approve": "approve",
    "reject": "reject",
    "publish": "publish",
    "release_without_review": "release",
    "supersede": "supersede",
    "cancel": "cancel",
    "return_to_draft": "edit",
}


# --- helpers -------------------------------------------------------------------


def _lock(version: Version | int) -> Version:
    pk = version if isinstance(version, int) else version.pk
    try:
        return Version.objects.select_for_update(of=("self",)).select_related("listing").get(pk=pk)
    except Version.DoesNotExist:
        raise ApplicationError("That version no longer exists.", code="not_found") from None


def _lock_listing(listing_id: int) -> Listing:
    return Listing.objects.select_for_update().get(pk=listing_id)


def _audit(version: Version, *, name: str, from_state: str, actor: Any, comment: str = "") -> VersionTransition:
    return VersionTransition.objects.create(
        version=version,
        name=name,
        from_state=from_state,
        to_state=version.state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        comment=comment,
    )


def _transition(version: Version, name: str, *, actor: Any, comment: str = "", **kwargs: Any) -> Version:
    """Run transition `name` on a locked version, save it and write the audit row."""
    method: Callable[..., Any] = getattr(version, name)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            f"Cannot {TRANSITION_LABELS.get(name, name)} {version}: it is {version.get_state_display().lower()}."
        )
    from_state = version.state
    method(**kwargs)
    version.save()
    _audit(version, name=name, from_state=from_state, actor=actor, comment=comment)
    return version


def _raise_number(exc: VersionNumberError, number: str) -> None:
    raise ApplicationError(f"Version number {number!r} is invalid: {exc.message}.", field="number") from exc


def last_published(listing: Listing, channel: str) -> Version | None:
    """The live version of a listing's channel (published, not superseded)."""
    return Version.objects.filter(listing=listing, channel=channel, state=State.PUBLISHED).first()


def _highest_released(listing: Listing, channel: str) -> Version | None:
    return (
        Version.objects.filter(listing=listing, channel=channel, state__in=FROZEN_STATES).order_by("-sort_key").first()
    )


def _check_number_free(listing: Listing, number: str, *, exclude_pk: int | None = None) -> None:
    taken = Version.objects.filter(listing=listing, number=number).exclude(state__in=NUMBER_RELEASED_STATES)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    holder = taken.first()
    if holder is not None:
        raise ApplicationError(
            f"{listing.key}@{number} already exists (build {holder.build_number}, {holder.get_state_display().lower()}).",
            field="number",
        )


def _check_greater_than_released(listing: Listing, channel: str, number: VersionNumber) -> None:
    """The number must be greater (by precedence) than every number published in the channel."""
    highest = (
        Version.objects.filter(listing=listing, channel=channel, state__in=FROZEN_STATES, sort_key__gte=number.sort_key)
        .order_by("-sort_key")
        .first()
    )
    if highest is not None:
        raise ApplicationError(
            f"Version {number} must be greater than every published version of channel {channel!r}; "
            f"{highest.number} was published already (try {highest.parsed_number.bump(PATCH)}).",
            field="number",
        )


def check_manual_bump_against_live(
    *, listing: Listing, channel: str, number: VersionNumber, scopes: Iterable[str], pricing: str | None
) -> None:
    """Manual scheme: refuse a bump too small for the change versus the channel's live version.

    `pricing=None` means the price stays as it is live. The version form's live
    check and the services share this one rule.
    """
    if listing.scheme != MANUAL:
        return
    previous = last_published(listing, channel)
    if previous is None:
        return
    change = scope_change(previous.scopes, scopes, scope_catalogue())
    try:
        check_manual_bump(
            previous.parsed_number,
            number,
            change,
            free_to_paid=previous.pricing == "free" and (pricing or previous.pricing) == "paid",
        )
    except VersionNumberError as exc:
        raise ApplicationError(f"Version number: {exc.message}.", field="number") from exc


def _check_manual_bump(version: Version) -> None:
    if version.source == Source.MIRROR:
        return  # the upstream portal numbered it under its own scope catalogue
    check_manual_bump_against_live(
        listing=version.listing,
        channel=version.channel,
        number=version.parsed_number,
        scopes=version.scopes,
        pricing=version.pricing,
    )


def _clean_snapshot(listing: Listing, data: dict[str, Any]) -> dict[str, Any]:
    """Validate the snapshot fields present in `data`; raises naming the field."""
    cleaned: dict[str, Any] = {}
    if "number" in data:
        number = validation.clean_number(listing.scheme, data["number"])
        cleaned["number"] = number.text
        cleaned["channel"] = channel_for(
            listing.scheme, number, validation.clean_channel(data.get("channel")) if data.get("channel") else None
        )
    elif "channel" in data:
        cleaned["channel"] = validation.clean_channel(data["channel"])
    if "update_notes" in data:
        cleaned["update_notes"] = validation.clean_update_notes(data["update_notes"])
    if "scopes" in data:
        cleaned["scopes"] = validation.clean_scopes(data["scopes"])
    if "members" in data:
        cleaned["members"] = validation.clean_members(data["members"])
    if "pricing" in data:
        cleaned["pricing"] = validation.clean_pricing(data["pricing"])
    if "api_version" in data:
        cleaned["api_version"] = validation.clean_api_version(data["api_version"])
    if "compatibility" in data:
        known = HostProduct.objects.values_list("key", flat=True)
        cleaned["compatibility"] = validation.clean_compatibility(data["compatibility"], known)
    if "components" in data:
        cleaned["components"] = validation.clean_components(data["components"])
    if "descriptor" in data:
        cleaned["descriptor"] = data["descriptor"]
        cleaned["descriptor_hash"] = validation.descriptor_hash(data["descriptor"])
    return cleaned


# --- create / update / duplicate ---------------------------------------------------


def version_create(
    *,
    listing: Listing,
    actor: Any,
    number: str,
    update_notes: str,
    scopes: Iterable[str] = (),
    members: Iterable[str] = (),
    pricing: str | None = None,
    api_version: int = 1,
    channel: str | None = None,
    compatibility: list[dict[str, str]] | None = None,
    components: list[dict[str, str]] | None = None,
    descriptor: Any = None,
    build_number: int | None = None,
    source: str = Source.FORM,
    duplicated_from: Version | None = None,
) -> Version:
    """Create a draft. System sources (poll/deploy/share) may pass actor=None."""
    if source not in Source.values:
        raise ApplicationError(f"Unknown source {source!r}.", field="source")
    if actor is not None or source not in SYSTEM_SOURCES:
        require_vendor_member(actor, listing.vendor_id)
    if listing.archived_at is not None:
        raise ApplicationError(f"Listing {listing.key} is archived: unarchive it to add versions.", field="listing")
    data = {
        "number": number,
        "update_notes": update_notes,
        "scopes": list(scopes),
        "members": list(members),
        "pricing": pricing or listing.pricing,
        "api_version": api_version,
        "compatibility": compatibility or [],
        "components": components or [],
        "descriptor": descriptor,
    }
    if channel:
        data["channel"] = channel
    cleaned = _clean_snapshot(listing, data)
    if build_number is not None and (
        not isinstance(build_number, int) or isinstance(build_number, bool) or build_number < 1
    ):
        raise ApplicationError("Build number must be a whole number of 1 or more.", field="build_number")
    with transaction.atomic():
        # The listing row lock serialises build-number assignment per listing.
        locked_listing = _lock_listing(listing.pk)
        _check_number_free(locked_listing, cleaned["number"])
        highest_build = Version.objects.filter(listing=locked_listing).aggregate(m=Max("build_number"))["m"] or 0
        if build_number is None:
            build_number = highest_build + 1
        elif build_number <= highest_build:
            raise ApplicationError(
                f"Build number {build_number} must be greater than the listing's highest build number {highest_build}.",
                field="build_number",
            )
        version = Version(
            listing=locked_listing,
            build_number=build_number,
            source=source,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            duplicated_from=duplicated_from,
            **cleaned,
        )
        _check_manual_bump(version)
        try:
            with transaction.atomic():
                version.save()
        except IntegrityError as exc:
            raise ApplicationError(
                f"{locked_listing.key}@{cleaned['number']} could not be saved: the number or build number is taken.",
                field="number",
            ) from exc
        comment = (
            f"duplicated from {duplicated_from.number} (build {duplicated_from.build_number})"
            if duplicated_from
            else ""
        )
        _audit(version, name="create", from_state="", actor=actor, comment=comment)
    return version


def version_update(*, version: Version, actor: Any, **data: Any) -> Version:
    """Change fields of a version that is not yet live.

    Editing a version that is pending, in review, approved or rejected sends it
    back to draft: what was reviewed is no longer what would be published, so it
    needs a new submission (scopes and members are locked while it waits).
    """
    unknown = set(data) - set(SNAPSHOT_FIELDS) - {"build_number"}
    if unknown:
        raise ApplicationError(f"Unknown field {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member(actor, version.listing.vendor_id)
        if version.state in FROZEN_STATES:
            raise ApplicationError(
                f"{version} is {version.get_state_display().lower()} and immutable: duplicate it to make a new version.",
                field="state",
            )
        if version.state == State.CANCELED:
            raise ApplicationError(f"{version} is canceled: duplicate it to start again.", field="state")
        if "build_number" in data:
            raise ApplicationError("The build number is assigned when the version is created.", field="build_number")
        cleaned = _clean_snapshot(version.listing, data)
        changed = {k: v for k, v in cleaned.items() if getattr(version, k) != v}
        if not changed:
            return version
        if "number" in changed:
            _check_number_free(version.listing, changed["number"], exclude_pk=version.pk)
        for name, value in changed.items():
            setattr(version, name, value)
        _check_manual_bump(version)
        fields = ", ".join(sorted(k for k in changed if k not in ("descriptor_hash", "channel")) or changed)
        if version.state in EDIT_RETURNS_TO_DRAFT:
            _transition(version, "return_to_draft", actor=actor, comment=f"edited: {fields}")
        else:
            version.save()
    return version


def version_duplicate(*, version: Version, actor: Any, number: str | None = None) -> Version:
    """A new draft with the same snapshot; the original stays untouched."""
    require_vendor_member(actor, version.listing.vendor_id)
    if version.state not in DUPLICABLE_STATES:
        raise TransitionNotAllowed(
            f"Only canceled, published, superseded or rejected versions can be duplicated; {version} is "
            f"{version.get_state_display().lower()}."
        )
    if number is None:
        number = _suggest_duplicate_number(version)
    data = {f: getattr(version, f) for f in SNAPSHOT_FIELDS if f not in ("number", "descriptor_hash")}
    return version_create(
        listing=version.listing,
        actor=actor,
        number=number,
        source=Source.FORM,
        duplicated_from=version,
        **data,
    )


def _suggest_duplicate_number(version: Version) -> str:
    """Reuse the number when it is free and still greater than anything released, else the next patch."""
    listing = version.listing
    taken = Version.objects.filter(listing=listing, number=version.number).exclude(state__in=NUMBER_RELEASED_STATES)
    highest = _highest_released(listing, version.channel)
    own = version.parsed_number
    if not taken.exists() and (highest is None or highest.parsed_number < own):
        return version.number
    candidates = [own]
    top = Version.objects.filter(listing=listing, channel=version.channel).order_by("-sort_key").first()
    if top is not None:
        candidates.append(top.parsed_number)
    base = max(candidates)
    suggestion = base.bump(PATCH)
    while Version.objects.filter(listing=listing, number=suggestion.text).exists():
        suggestion = suggestion.bump(PATCH)
    if own.is_prerelease and version.listing.scheme != BUNDLE:
        tagged = parse_version(f"{suggestion.text}-{'.'.join(own.prerelease)}")
        if not Version.objects.filter(listing=listing, number=tagged.text).exists():
            return tagged.text
    return suggestion.text


# --- lifecycle -------------------------------------------------------------------------


def version_submit(*, version: Version, actor: Any, comment: str = "") -> Version:
    """Validate everything and queue the version for review.

    OCP -dev versions skip the review and go live on the vendor's sandbox.
    """
    with transaction.atomic():
        version = _lock(version)
        if actor is not None or version.source not in SYSTEM_SOURCES:
            require_vendor_member(actor, version.listing.vendor_id)
        _validate_for_release(version)
        if version.state == State.DRAFT and _skips_review(version):
            return _release(version, actor=actor, comment=comment or "released without review")
        return _transition(version, "submit", actor=actor, comment=comment)


def _skips_review(version: Version) -> bool:
    """System and OCP -dev versions skip review, unless they turn a free app into a paid one.

    Mirrored versions always skip it: the upstream portal reviewed them, and a
    move to paid still asks each site for consent in the rollout.
    """
    if version.source == Source.MIRROR:
        return True
    if not skips_review(version.listing.scheme, version.source, version.parsed_number):
        return False
    previous = last_published(version.listing, version.channel)
    previous_pricing = previous.pricing if previous else "free"
    return not (previous_pricing == "free" and version.pricing == "paid")


def _validate_for_release(version: Version) -> None:
    listing = version.listing
    if listing.archived_at is not None:
        raise ApplicationError(f"Listing {listing.key} is archived.", field="listing")
    # Re-run every field rule: the row may predate a rule or have been written by the ORM.
    _clean_snapshot(
        listing,
        {
            f: getattr(version, f)
            for f in ("number", "update_notes", "scopes", "members", "pricing", "api_version", "components")
        },
    )
    _check_greater_than_released(listing, version.channel, version.parsed_number)
    _check_manual_bump(version)


def version_start_review(*, version: Version, actor: Any, comment: str = "") -> Version:
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        return _transition(version, "start_review", actor=actor, comment=comment, reviewer=actor)


def version_approve(*, version: Version, actor: Any, comment: str = "") -> Version:
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        _transition(version, "approve", actor=actor, comment=comment)
        _email_vendor_on_commit(version)
        return version


def version_reject(*, version: Version, actor: Any, comment: str) -> Version:
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError("Comments are required when rejecting: tell the vendor what to fix.", field="comment")
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        _transition(version, "reject", actor=actor, comment=comment)
        _email_vendor_on_commit(version)
        return version


def _email_vendor_on_commit(version: Version) -> None:
    """After commit, e-mail the vendor about the review decision just recorded (its audit row)."""
    transition_id = version.transitions.order_by("-id").values_list("pk", flat=True).first()

    def enqueue() -> None:
        from reviews.tasks import send_review_decision_email

        send_review_decision_email.delay(transition_id)

    # robust: a broker hiccup must not turn a committed decision into an error page.
    transaction.on_commit(enqueue, robust=True)


def version_cancel(*, version: Version, actor: Any, comment: str = "") -> Version:
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member_or_staff(actor, version.listing.vendor_id)
        return _transition(version, "cancel", actor=actor, comment=comment)


def version_publish(*, version: Version, actor: Any, comment: str = "") -> Version:
    """Make an approved version live; the channel's previous live version is superseded."""
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member_or_staff(actor, version.listing.vendor_id)
        if not can_proceed(version.publish):
            raise TransitionNotAllowed(
                f"Cannot publish {version}: it is {version.get_state_display().lower()} (only approved versions can be published)."
            )
        return _release(version, actor=actor, comment=comment)


def _release(version: Version, *, actor: Any, comment: str) -> Version:
    """Publish a locked version (reviewed or not) and supersede the channel's live one."""
    # Lock order everywhere: version row, then listing row. Holding the listing
    # lock, no other publish of this listing can slip in between the check that
    # this number is the highest and the moment it goes live.
    _lock_listing(version.listing_id)
    _check_greater_than_released(version.listing, version.channel, version.parsed_number)
    previous = (
        Version.objects.select_for_update()
        .filter(listing_id=version.listing_id, channel=version.channel, state=State.PUBLISHED)
        .exclude(pk=version.pk)
        .first()
    )
    if previous is not None:
        _transition(previous, "supersede", actor=None, comment=f"superseded by {version.number}")
    name = "publish" if version.state == State.APPROVED else "release_without_review"
    _transition(version, name, actor=actor, comment=comment)
    transaction.on_commit(lambda: after_version_published(version.pk))
    return version


def after_version_published(version_id: int) -> None:
    """Runs after the publishing transaction commits: start the rollout to customer sites."""
    from upgrades.tasks import rollout_start_task

    rollout_start_task.delay(version_id)
