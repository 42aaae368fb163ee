"""Creating, editing and duplicating versions (the vendor's drafts).

A submitted version (pending approval, in review, approved) is read-only: the
vendor withdraws it to draft first (lifecycle.version_withdraw, audited). Editing
a rejected version sends it back to draft: it needs a new submission.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from core.errors import ApplicationError, ErrorCollector, TransitionNotAllowed
from marketplace.models import Listing
from marketplace.permissions import (
    require_vendor_member,
)
from versions.models import (
    DUPLICABLE_STATES,
    EDIT_RETURNS_TO_DRAFT,
    FROZEN_STATES,
    SNAPSHOT_FIELDS,
    SUBMITTED_STATES,
    Source,
    State,
    Version,
)
from versions.numbers import PATCH, parse_version
from versions.schemes import BUNDLE
from versions.services._rules import (
    NUMBER_RELEASED_STATES,
    SYSTEM_SOURCES,
    _audit,
    _check_manual_bump,
    _check_number_free,
    _clean_breaking,
    _clean_snapshot,
    _highest_released,
    _lock,
    _lock_listing,
    _transition,
)

# --- create / update / duplicate ---------------------------------------------------


# The column is a positive 32-bit integer on every database.
BUILD_NUMBER_MAX = 2_147_483_647


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
    breaking: bool = False,
) -> Version:
    """Create a draft. System sources (poll/deploy/share) may pass actor=None.

    `breaking`: the vendor says the version breaks compatibility, so (manual
    and OCP) its number must be a MAJOR bump over what is live.
    """
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
    # Every field is judged in one pass: a form with five wrong fields hears about all five.
    errors = ErrorCollector()
    cleaned = _clean_snapshot(listing, data, errors)
    cleaned["breaking"] = errors.check(_clean_breaking, breaking)
    if build_number is not None and (
        not isinstance(build_number, int) or isinstance(build_number, bool) or not 1 <= build_number <= BUILD_NUMBER_MAX
    ):
        errors.add(
            ApplicationError(f"Build number must be a whole number from 1 to {BUILD_NUMBER_MAX}.", field="build_number")
        )
    if "number" in cleaned:
        # Checked again under the listing lock below; here so a taken number is told with the rest.
        errors.check(_check_number_free, listing, cleaned["number"])
    errors.raise_if_any()
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

    Submitted versions (pending approval, in review, approved) are read-only:
    what the reviewer sees is what would be published, scopes and members
    included. The vendor withdraws one to draft (version_withdraw) to change it.
    Editing a rejected version sends it back to draft for a new submission.
    """
    unknown = set(data) - set(SNAPSHOT_FIELDS) - {"build_number", "breaking"}
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
        if version.state in SUBMITTED_STATES:
            raise TransitionNotAllowed(
                f"{version} is {version.get_state_display().lower()} and read-only: withdraw it to draft to "
                "edit it (or cancel it); nothing changed.",
                field="state",
            )
        if "build_number" in data:
            raise ApplicationError("The build number is assigned when the version is created.", field="build_number")
        errors = ErrorCollector()
        cleaned = _clean_snapshot(version.listing, data, errors)
        if "breaking" in data:
            cleaned["breaking"] = errors.check(_clean_breaking, data["breaking"])
        if "number" in cleaned:
            errors.check(_check_number_free, version.listing, cleaned["number"], exclude_pk=version.pk)
        errors.raise_if_any()
        changed = {k: v for k, v in cleaned.items() if getattr(version, k) != v}
        if not changed:
            return version
        _check_not_on_test_sites(version, changed)
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


# What a member's test install keeps meaning: the sites run this number with these scopes and price.
FIXED_ONCE_ON_TEST_SITES = ("number", "channel", "scopes", "pricing", "api_version", "compatibility", "components")


def _check_not_on_test_sites(version: Version, changed: dict[str, Any]) -> None:
    """A version its members installed (private testing) keeps what those sites run.

    Changing its scopes or price in place would let the published version reach
    those sites without asking them (the rollout sees the same version installed).
    """
    fixed = [name for name in FIXED_ONCE_ON_TEST_SITES if name in changed]
    if not fixed:
        return
    sites = version.installations.count()
    if sites:
        raise ApplicationError(
            f"{version} runs on {sites} test site{'s' if sites != 1 else ''} of its members: its "
            f"{fixed[0].replace('_', ' ')} can't change any more (only the update notes and members can). "
            "Create a new version for the change; nothing changed.",
            field=fixed[0],
        )


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
