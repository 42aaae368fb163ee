"""What every version write shares: row locks, the audit row, the transition
runner, and the checks on numbers and snapshot fields.

Lock order everywhere: version row, then listing row (see lifecycle._release).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_fsm import can_proceed

from core.errors import ApplicationError, ErrorCollector, TransitionNotAllowed
from core.services import audit_record
from marketplace.models import HostProduct, Listing
from marketplace.scopes import missing_required_scopes, missing_scopes_message
from marketplace.selectors import scope_catalogue, scope_requirements
from versions import validation
from versions.models import (
    FROZEN_STATES,
    Source,
    Version,
    VersionTransition,
)
from versions.numbers import PATCH, VersionNumber
from versions.policies import NUMBER_RELEASED_STATES, manual_bump_check
from versions.schemes import DEFAULT_CHANNEL, OCP, channel_for
from versions.selectors import last_published

SYSTEM_SOURCES = (Source.POLL, Source.DEPLOY, Source.SHARE, Source.MIRROR)

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
    "withdraw": "withdraw to draft",
    "release_to_queue": "release to the queue",
    "approve_rerelease": "approve the re-release",
    "request_information": "ask the vendor about",
    "information_provided": "answer the question on",
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
    """The version's own history row, and the portal-wide audit row (core.AuditEvent) beside it."""
    transition = VersionTransition.objects.create(
        version=version,
        name=name,
        from_state=from_state,
        to_state=version.state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        comment=comment,
    )
    audit_record(
        actor=actor,
        action=f"version.{name}",
        obj=version,
        object_repr=f"{version.listing.key}@{version.number}",
        from_state=from_state,
        to_state=version.state,
        details={"comment": comment, "listing_id": version.listing_id, "transition_id": transition.pk},
        at=transition.at,
    )
    return transition


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


def _check_manual_bump(version: Version) -> None:
    """Vendor-typed numbers: the bump must fit the change (and `breaking`) versus what is live (versions.policies)."""
    if version.source == Source.MIRROR:
        return  # the upstream portal numbered it under its own scope catalogue
    listing = version.listing
    manual_bump_check(
        scheme=listing.scheme,
        live=last_published(listing, version.channel),
        number=version.parsed_number,
        scopes=version.scopes,
        pricing=version.pricing,
        catalogue=scope_catalogue(),
        breaking=version.breaking,
        release_live=last_published(listing, DEFAULT_CHANNEL) if version.breaking and listing.scheme == OCP else None,
    )


def _check_required_scopes(version: Version) -> None:
    """Every scope the version asks for brings the scopes it requires (the catalogue says which).

    Checked when a vendor submits; drafts may lack one while the vendor works
    on them (the form and the API say what is missing). Versions the portal
    makes from a descriptor or a deploy carry what the app itself declares.
    """
    if version.source in SYSTEM_SOURCES:
        return
    missing = missing_required_scopes(version.scopes, scope_requirements())
    if missing:
        raise ApplicationError(missing_scopes_message(missing), field="scopes", code="missing_required_scope")


def _clean_breaking(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ApplicationError("Breaking change must be true or false.", field="breaking")
    return value


def _clean_snapshot(listing: Listing, data: dict[str, Any], errors: ErrorCollector | None = None) -> dict[str, Any]:
    """Validate the snapshot fields present in `data`, every one of them.

    With `errors`, refusals are collected there (the caller adds its own checks
    and raises once); without, all of them are raised together (core.errors.FieldErrors).
    """
    own = errors is None
    errors = ErrorCollector() if errors is None else errors
    cleaned: dict[str, Any] = {}

    def keep(name: str, rule: Callable[..., Any], *args: Any) -> None:
        value = errors.check(rule, *args)
        if value is not None:
            cleaned[name] = value

    if "number" in data:
        number = errors.check(validation.clean_number, listing.scheme, data["number"])
        requested = errors.check(validation.clean_channel, data["channel"]) if data.get("channel") else None
        if number is not None:
            cleaned["number"] = number.text
            cleaned["channel"] = channel_for(listing.scheme, number, requested)
    elif "channel" in data:
        keep("channel", validation.clean_channel, data["channel"])
    if "update_notes" in data:
        keep("update_notes", validation.clean_update_notes, data["update_notes"])
    if "scopes" in data:
        keep("scopes", validation.clean_scopes, data["scopes"])
    if "members" in data:
        keep("members", validation.clean_members, data["members"])
    if "pricing" in data:
        keep("pricing", validation.clean_pricing, data["pricing"])
    if "api_version" in data:
        keep("api_version", validation.clean_api_version, data["api_version"])
    if "compatibility" in data:
        known = HostProduct.objects.values_list("key", flat=True)
        keep("compatibility", validation.clean_compatibility, data["compatibility"], known)
    if "components" in data:
        keep("components", validation.clean_components, data["components"])
    if "descriptor" in data:
        cleaned["descriptor"] = data["descriptor"]
        cleaned["descriptor_hash"] = validation.descriptor_hash(data["descriptor"])
    if own:
        errors.raise_if_any()
    return cleaned
