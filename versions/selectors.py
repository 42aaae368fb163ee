"""Reads on versions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet

from core.errors import ApplicationError, NotFound
from core.models import AuditEvent
from core.selectors import audit_for_objects
from marketplace.models import Vendor
from marketplace.scopes import MissingScope, missing_required_scopes, normalise_scopes, scope_change
from versions.models import (
    DUPLICABLE_STATES,
    EDITABLE_STATES,
    SUBMITTED_STATES,
    WAITING_FOR_REVIEW,
    State,
    Version,
    VersionTransition,
)
from versions.numbers import VersionNumber, VersionNumberError, is_valid_version, parse_version
from versions.policies import (
    NUMBER_RELEASED_STATES,
    RELEASED_STATES,
    SCHEMES_ASKING_FOR_SCOPES_AND_PRICE,
    Snapshot,
    component_changes,
    free_to_paid,
    manual_bump_check,
    release_content,
    rerelease_review_reason,
    upgrade_requires_consent,
)
from versions.schemes import (
    DEFAULT_CHANNEL,
    build_order_warning,
    channel_for,
    pre_release_blocks_upgrade_warning,
    rerelease_bump,
    rerelease_number,
    validate_number,
)


class VersionFilter(django_filters.FilterSet):
    listing = django_filters.CharFilter(field_name="listing__key", label="Listing key")
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    channel = django_filters.CharFilter()
    source = django_filters.CharFilter()
    number_min = django_filters.CharFilter(method="filter_number_min", label="Lowest number (inclusive, by precedence)")
    number_max = django_filters.CharFilter(
        method="filter_number_max", label="Highest number (inclusive, by precedence)"
    )

    class Meta:
        model = Version
        fields = ["listing", "state", "channel", "source"]

    @staticmethod
    def _key(name: str, value: str) -> bytes:
        try:
            return parse_version(value).sort_key
        except VersionNumberError as exc:
            raise ApplicationError(f"{name} {value!r} is not a version number: {exc.message}.", field=name) from exc

    def filter_number_min(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(sort_key__gte=self._key(name, value))

    def filter_number_max(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # Every key of `value` with a longer pre-release still sorts below; release keys end in 0xff.
        return qs.filter(sort_key__lte=self._key(name, value))


def version_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Version]:
    """Versions of the user's vendors, ordered by listing and precedence."""
    qs = (
        Version.objects.filter(listing__vendor__memberships__user=user)
        .select_related("listing", "listing__vendor")
        .order_by("listing__key", "-sort_key")
    )
    if filters:
        fs = VersionFilter(filters, queryset=qs)
        if not fs.is_valid():
            field, errors = next(iter(fs.errors.items()))
            raise ApplicationError(f"{field}: {' '.join(errors)}", field=field)
        qs = fs.qs
    return qs


def version_get_for_user(*, user: Any, pk: int) -> Version:
    version = version_list(user=user).filter(pk=pk).first()
    if version is None:
        raise NotFound("No such version among your vendor's listings.")
    return version


def version_history(*, version: Version) -> QuerySet[VersionTransition]:
    return version.transitions.select_related("actor").order_by("-at", "-id")


def listing_history(*, listing_id: int) -> QuerySet[AuditEvent]:
    """The listing's audit history for its vendor: the listing, its versions, their rollouts and
    beta share links, newest first (one query; the caller has checked the listing is the user's).

    Rollouts and share links are named through the versions' reverse relations and their
    type strings, so this module imports nothing of the upgrades app.
    """
    versions = Version.objects.filter(listing_id=listing_id)
    return audit_for_objects(
        {
            "marketplace.listing": [listing_id],
            "versions.version": versions.values("pk"),
            "upgrades.rollout": versions.filter(rollout__isnull=False).values("rollout"),
            "upgrades.betasharelink": versions.filter(beta_links__isnull=False).values("beta_links"),
        }
    )


def versions_of_listing(*, listing_id: int) -> QuerySet[Version]:
    return Version.objects.filter(listing_id=listing_id).order_by("-sort_key")


def version_component_changes(*, listing_id: int, versions: Iterable[Version]) -> dict[int, list[dict[str, Any]]]:
    """App groups: per version, the components it changed against the released version before it
    in its channel (the first share lists every component as new).

    An empty list is a share that changed no component: the portal offers it to no site, since
    installations update by their components. One query for the listing's released versions.
    """
    wanted = {v.pk: v for v in versions}
    if not wanted:
        return {}
    released = list(
        Version.objects.filter(listing_id=listing_id, state__in=RELEASED_STATES)
        .only("pk", "channel", "sort_key", "components")
        .order_by("sort_key")
    )
    changes: dict[int, list[dict[str, Any]]] = {}
    previous_in_channel: dict[str, list[dict[str, str]]] = {}
    for version in released:
        before = previous_in_channel.get(version.channel, [])
        if version.pk in wanted:
            changes[version.pk] = component_changes(before, version.components)
        previous_in_channel[version.channel] = version.components
    for pk, version in wanted.items():
        if pk not in changes:  # not released (yet): against what is live in its channel now
            changes[pk] = component_changes(previous_in_channel.get(version.channel, []), version.components)
    return changes


def last_published(listing: Any, channel: str) -> Version | None:
    """The live version of a listing's channel (published, not superseded)."""
    return Version.objects.filter(listing=listing, channel=channel, state=State.PUBLISHED).first()


def live_versions(*, listing_id: int) -> QuerySet[Version]:
    """One published version per channel."""
    return Version.objects.filter(listing_id=listing_id, state=State.PUBLISHED).order_by("channel")


def version_test_sites(*, version: Version) -> int:
    """On how many sites the version's members installed it for testing (a count: no vendor sees sites)."""
    if version.is_frozen:
        return 0
    return version.installations.count()


def review_comments(*, version: Version) -> list[VersionTransition]:
    return list(version.transitions.filter(name="reject").select_related("actor").order_by("-at"))


# --- vendor portal reads -------------------------------------------------------------


def listings_with_live_versions(*, user: Any, include_archived: bool = False) -> QuerySet[Any]:
    """The user's listings, each with `live_versions` (one published version per channel) prefetched."""
    from marketplace.selectors import listing_list

    live = Version.objects.filter(state=State.PUBLISHED).order_by("channel")
    return listing_list(user=user, include_archived=include_archived).prefetch_related(
        Prefetch("versions", queryset=live, to_attr="live_versions")
    )


# Versions that wait for the vendor to act: finish a draft, fix a rejection, publish an approval.
WAITING_FOR_VENDOR = (State.DRAFT, State.REJECTED, State.APPROVED)


def versions_waiting_for_vendor(*, user: Any) -> QuerySet[Version]:
    return (
        version_list(user=user)
        .filter(state__in=WAITING_FOR_VENDOR, listing__archived_at__isnull=True)
        .order_by("-updated_at", "-id")
    )


def recent_activity(*, user: Any, limit: int = 15) -> list[VersionTransition]:
    """The latest transitions on the user's vendors' versions (the dashboard's activity feed)."""
    return list(
        VersionTransition.objects.filter(version__listing__vendor__in=Vendor.objects.filter(memberships__user=user))
        .select_related("version", "version__listing", "actor")
        .order_by("-at", "-id")[:limit]
    )


def version_builds_in_use(
    *, listing_id: int, exclude_pk: int | None = None
) -> tuple[list[tuple[VersionNumber, int]], int, bool]:
    """(number, build) of the listing's other versions, and the build of the version at hand.

    The version at hand is `exclude_pk` (its own build) or a new one (the build
    the portal will assign: the highest so far plus one; the bool says so).
    Canceled and rejected versions released their numbers but keep their builds.
    """
    rows = list(Version.objects.filter(listing_id=listing_id).values_list("pk", "number", "build_number", "state"))
    own = next((build for pk, _, build, _ in rows if pk == exclude_pk), None)
    others = [
        (parse_version(number), build)
        for pk, number, build, state in rows
        if pk != exclude_pk and state not in NUMBER_RELEASED_STATES
    ]
    if own is not None:
        return others, own, False
    return others, max((build for _, _, build, _ in rows), default=0) + 1, True


@dataclass(frozen=True)
class ConsentPreview:
    """What customers of the live version would have to approve for a new one."""

    live_number: str | None
    reasons: tuple[str, ...]  # each one needs the customer's consent
    notes: tuple[str, ...] = ()  # changes customers see but need not approve

    @property
    def needs_consent(self) -> bool:
        return bool(self.reasons)

    @property
    def summary(self) -> str:
        if self.live_number is None:
            return "No live version in this channel yet: customers grant all scopes when they install."
        if not self.reasons:
            return f"Customers on {self.live_number} would be upgraded without being asked."
        return "; ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "live_number": self.live_number,
            "needs_consent": self.needs_consent,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "summary": self.summary,
        }


def consent_preview_from(
    *,
    live_number: str | None,
    live_scopes: Iterable[str],
    live_pricing: str,
    scopes: Iterable[str],
    pricing: str,
    scheme: str = "manual",
    number: str | None = None,
    catalogue: dict[str, int] | None = None,
) -> ConsentPreview:
    """Pure: what customers on the live snapshot would have to approve for the new one.

    The reasons come from the one consent policy (versions.policies), so the
    preview says exactly what the rollout will ask; the notes list the changes
    customers see without being asked.
    """
    if live_number is None:
        return ConsentPreview(live_number=None, reasons=())
    scopes = list(scopes)
    candidate_number = number if number and is_valid_version(number) else live_number
    reasons = upgrade_requires_consent(
        Snapshot(live_number, tuple(live_scopes), live_pricing),
        Snapshot(candidate_number, tuple(scopes), pricing),
        scheme,
        catalogue=catalogue,
    )
    asked = {r.scope for r in reasons if r.scope}
    change = scope_change(live_scopes, scopes, catalogue)
    why = (
        "covered by a granted scope"
        if scheme in SCHEMES_ASKING_FOR_SCOPES_AND_PRICE
        else f"the {scheme} scheme does not ask for scopes"
    )
    notes = [f"new scope {s} ({why})" for s in change.added if s not in asked]
    # Connect and forge ask about removed (and replaced) scopes too: those are reasons, not notes.
    asked |= {r.extra["replaces"] for r in reasons if "replaces" in r.extra}
    notes += [f"scope removed {s}" for s in change.removed if s not in asked]
    if live_pricing == "paid" and pricing == "free":
        notes.append("price: paid -> free")
    return ConsentPreview(live_number=live_number, reasons=tuple(str(r) for r in reasons), notes=tuple(notes))


def version_consent_preview(
    *, listing: Any, channel: str, scopes: Iterable[str], pricing: str, number: str | None = None
) -> ConsentPreview:
    """Compare a (proposed) snapshot with the live version of its channel."""
    from marketplace.selectors import scope_catalogue

    live = last_published(listing, channel)
    return consent_preview_from(
        live_number=live.number if live else None,
        live_scopes=live.scopes if live else (),
        live_pricing=live.pricing if live else "free",
        scopes=normalise_scopes(list(scopes)),
        pricing=pricing,
        scheme=listing.scheme,
        number=number,
        catalogue=scope_catalogue(),
    )


def scopes_missing_requirements(scopes: Iterable[str]) -> list[MissingScope]:
    """The catalogue's required scopes these scopes lack (write:jira-work without read:jira-work).

    Raises ApplicationError on the scopes field for a scope that can't be read.
    """
    from marketplace.selectors import scope_requirements

    return missing_required_scopes(normalise_scopes(list(scopes)), scope_requirements())


def version_number_check(
    *,
    listing: Any,
    number: str,
    scopes: Iterable[str] | None = None,
    pricing: str | None = None,
    channel: str | None = None,
    exclude_pk: int | None = None,
    breaking: bool = False,
) -> dict[str, Any]:
    """The live check behind the version form: the server's own number rules, nothing extra.

    Parses with the scheme's rules (versions.schemes.validate_number), reports the
    pre-release warning for product migrations and, for the manual scheme, whether
    the bump is big enough for the scopes and price given.
    """
    from marketplace.selectors import scope_catalogue

    text = (number or "").strip()
    try:
        parsed = validate_number(listing.scheme, text)
    except VersionNumberError as exc:
        return {"ok": False, "field": "number", "error": f"Version number {text!r} is invalid: {exc.message}."}
    result: dict[str, Any] = {"ok": True, "number": parsed.text, "error": "", "warning": ""}
    result["channel"] = channel_for(listing.scheme, parsed, channel or None)
    others, build, build_is_next = version_builds_in_use(listing_id=listing.pk, exclude_pk=exclude_pk)
    warnings = []
    warning = pre_release_blocks_upgrade_warning(parsed, [n for n, _ in others])
    if warning:
        warnings.append(f"Product migration: {warning}.")
    warning = build_order_warning(parsed, build, others, build_is_next=build_is_next)
    if warning:
        warnings.append(f"Build numbers: {warning}.")
    result["warning"] = " ".join(warnings)
    if scopes is not None:
        try:
            manual_bump_check(
                scheme=listing.scheme,
                live=last_published(listing, result["channel"]),
                number=parsed,
                scopes=normalise_scopes(list(scopes)),
                pricing=pricing,
                catalogue=scope_catalogue(),
                breaking=breaking,
                release_live=last_published(listing, DEFAULT_CHANNEL) if breaking else None,
            )
        except ApplicationError as exc:
            return {**result, "ok": False, "field": exc.field or "number", "error": exc.message}
    return result


def version_vendor_actions(version: Version) -> list[str]:
    """The actions a vendor member may take on a version in its current state (pure)."""
    state = version.state
    actions = []
    if state in EDITABLE_STATES:
        actions.append("edit")
    if state == State.DRAFT:
        actions.append("submit")
    if state in SUBMITTED_STATES:
        actions.append("withdraw")
    if state == State.APPROVED:
        actions.append("publish")
    if state in (State.DRAFT, *WAITING_FOR_REVIEW, State.NEEDS_INFORMATION):
        actions.append("cancel")
    if state in DUPLICABLE_STATES:
        actions.append("duplicate")
    # Release controls (issue #16): roll back to a superseded version; schedule an approved one.
    if state == State.SUPERSEDED:
        actions.append("rerelease")
    if state == State.APPROVED:
        actions.append("schedule")
    return actions


# --- release controls (issue #16 item 2): what a re-release would be --------------------------


@dataclass(frozen=True)
class RereleasePlan:
    number: str  # the number it would get now
    channel: str
    live_number: str | None
    consent: tuple[str, ...]  # what the live version's sites would be asked
    review_reason: str | None  # None: it skips review


def version_content_reviewed(*, version: Version, exclude_pk: int | None = None) -> bool:
    """A version of the listing with exactly this content was approved or published before."""
    content = release_content(version)
    reviewed = Version.objects.filter(
        listing_id=version.listing_id,
        descriptor_hash=version.descriptor_hash,
        pricing=version.pricing,
        api_version=version.api_version,
        transitions__to_state__in=(State.APPROVED, State.PUBLISHED),
    ).distinct()
    if exclude_pk is not None:
        reviewed = reviewed.exclude(pk=exclude_pk)
    return any(release_content(other) == content for other in reviewed)


def version_rerelease_plan(*, version: Version) -> RereleasePlan:
    """The number, channel and review path a re-release of `version` would get now (the service uses it)."""
    from marketplace.selectors import scope_catalogue

    listing = version.listing
    catalogue = scope_catalogue()
    live = last_published(listing, version.channel)
    base = live or version
    bump = rerelease_bump(
        listing.scheme,
        scopes=scope_change(base.scopes, version.scopes, catalogue),
        free_to_paid=free_to_paid(base.pricing, version.pricing),
        api_version_changed=base.api_version != version.api_version,
    )
    highest = (
        Version.objects.filter(listing=listing, channel=version.channel, state__in=RELEASED_STATES)
        .order_by("-sort_key")
        .first()
    )
    number = rerelease_number(
        listing.scheme, above=(highest or version).parsed_number, like=version.parsed_number, bump=bump
    )
    # A draft or a submitted version may hold the number already: take the next free one.
    taken = set(
        Version.objects.filter(listing=listing)
        .exclude(state__in=NUMBER_RELEASED_STATES)
        .values_list("number", flat=True)
    )
    while number.text in taken:
        number = rerelease_number(listing.scheme, above=number, like=version.parsed_number, bump=bump)
    consent = (
        tuple(str(r) for r in upgrade_requires_consent(live, version, listing, catalogue=catalogue)) if live else ()
    )
    return RereleasePlan(
        number=number.text,
        channel=channel_for(listing.scheme, number, version.channel),
        live_number=live.number if live else None,
        consent=consent,
        review_reason=rerelease_review_reason(
            matches_reviewed=version_content_reviewed(version=version), consent=consent
        ),
    )
