"""Reads: the update check (the hot path), sites and installations, rollout progress, adoption."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from marketplace.models import Listing
from marketplace.selectors import scope_catalogue
from upgrades.models import (
    NOT_RUNNING_STATES,
    Installation,
    RequestState,
    Site,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)
from versions import policies
from versions.models import Version, VersionYank
from versions.schemes import BUNDLE

CANDIDATE_FIELDS = (
    "id",
    "listing_id",
    "number",
    "sort_key",
    "build_number",
    "channel",
    "update_notes",
    "scopes",
    "pricing",
    "compatibility",
    "components",
    "state",
    "source",
)


# --- sites -------------------------------------------------------------------------------


def _offers(site: Site, installations: list[Installation]) -> dict[int, dict[str, Any]]:
    """For each installation, the newest version it may move to (a fixed number of queries).

    Candidates are released versions (published, or superseded in their channel)
    greater by precedence than what the site runs: one query, compared in SQL
    on the sort key. Audience, host compatibility and consent are decided in memory by
    versions.policies, the rules the rollout applies.
    """
    if not installations:
        return {}
    listing_ids = {i.listing_id for i in installations}
    private_ids = {
        i.listing_id
        for i in installations
        if i.listing.visibility == Listing.Visibility.PRIVATE or i.listing.scheme == "ocp"
    }
    allowed_listing_ids = (
        set(
            Listing.allowed_sites.through.objects.filter(site_id=site.pk, listing_id__in=private_ids).values_list(
                "listing_id", flat=True
            )
        )
        if private_ids
        else set()
    )
    newer = Installation.objects.filter(
        site_id=site.pk, listing_id=OuterRef("listing_id"), version__sort_key__lt=OuterRef("sort_key")
    )
    candidates = (
        Version.objects.filter(listing_id__in=listing_ids, state__in=policies.RELEASED_STATES)
        .filter(Exists(newer))
        # Issue #16: a yanked version is offered to nobody; a staged rollout only to its stage.
        .filter(yank__isnull=True)
        .annotate(stage_rollout_limit=F("rollout__bucket_limit"), stage_plan_stages=F("stage_plan__stages"))
        .only(*CANDIDATE_FIELDS)
        .order_by("listing_id", "-sort_key")
    )
    by_listing: dict[int, list[Version]] = {}
    for version in candidates:
        by_listing.setdefault(version.listing_id, []).append(version)
    offers: dict[int, dict[str, Any]] = {}
    catalogue = None
    # Issue #16: installations running a yanked version are offered a way off it (move_off_offers).
    yanked = [i for i in installations if getattr(i, "yank_reason", None)]
    if yanked:
        offers.update(_move_off_offers(site, yanked, allowed_listing_ids))
    for installation in installations:
        installation.site = site
        if installation.pk in offers:
            continue
        listing = installation.listing
        installed_key = bytes(installation.version.sort_key)
        for version in by_listing.get(listing.pk, ()):
            if bytes(version.sort_key) <= installed_key:
                break
            # Issue #16: a version rolling out in stages reaches only the installations whose stage came.
            limit = policies.stage_limit(
                rollout_limit=version.stage_rollout_limit, plan_stages=version.stage_plan_stages
            )
            if not policies.stage_reached(installation.pk, version.pk, limit):
                continue
            if policies.version_reaches(
                version,
                listing=listing,
                installation=installation,
                site=site,
                site_allowed=listing.pk in allowed_listing_ids,
            ):
                if catalogue is None:
                    catalogue = scope_catalogue()
                offers[installation.pk] = {
                    "version": version,
                    "reasons": policies.consent_reasons(
                        installation, version, listing, catalogue=catalogue, auto_update=site.auto_update
                    ),
                }
                break
    return offers


def _move_off_offers(site: Site, installations: list[Installation], allowed_listing_ids: set[int]) -> dict:
    """Issue #16: for installations on a yanked version, the newest released version that is not
    yanked and reaches them (even a lower one; a version rolling out in stages only once their stage
    came), with the reason."""
    catalogue = scope_catalogue()
    candidates = (
        Version.objects.filter(
            listing_id__in={i.listing_id for i in installations},
            state__in=policies.RELEASED_STATES,
            yank__isnull=True,
        )
        .annotate(stage_rollout_limit=F("rollout__bucket_limit"), stage_plan_stages=F("stage_plan__stages"))
        .only(*CANDIDATE_FIELDS)
        .order_by("listing_id", "-sort_key")
    )
    by_listing: dict[int, list[Version]] = {}
    for version in candidates:
        by_listing.setdefault(version.listing_id, []).append(version)
    offers: dict[int, dict[str, Any]] = {}
    for installation in installations:
        installation.site = site
        listing = installation.listing
        for version in by_listing.get(listing.pk, ()):
            if version.pk == installation.version_id:
                continue
            limit = policies.stage_limit(
                rollout_limit=version.stage_rollout_limit, plan_stages=version.stage_plan_stages
            )
            if not policies.stage_reached(installation.pk, version.pk, limit):
                continue
            if not policies.version_reaches(
                version,
                listing=listing,
                installation=installation,
                site=site,
                site_allowed=listing.pk in allowed_listing_ids,
            ):
                continue
            offers[installation.pk] = {
                "version": version,
                "reasons": policies.consent_reasons(
                    installation, version, listing, catalogue=catalogue, auto_update=site.auto_update
                ),
                "move_off": policies.move_off_offer(
                    installed_number=installation.version.number,
                    yank_reason=installation.yank_reason,
                    target_number=version.number,
                    target_is_lower=bytes(version.sort_key) < bytes(installation.version.sort_key),
                ),
            }
            break
    return offers


def site_updates(*, site: Site) -> dict[str, Any]:
    """What a customer instance asks daily: per installation, the newest version it may move to,
    whether that needs consent and why, and what is already under way (open request, scheduled upgrade).

    Costs the same few queries for 1 or 10,000 installations (pinned in tests).
    """
    installations = list(
        Installation.objects.filter(site_id=site.pk)
        .exclude(state__in=NOT_RUNNING_STATES)
        .select_related("listing", "version")
        .only(
            "id",
            "state",
            "granted_scopes",
            "license",
            "listing_id",
            "version_id",
            "listing__key",
            "listing__name",
            "listing__scheme",
            "listing__visibility",
            "listing__vendor_id",
            "version__number",
            "version__sort_key",
            "version__build_number",
            "version__channel",
            "version__components",
            "version__state",
        )
        .annotate(yank_reason=F("version__yank__reason"))  # issue #16: running a yanked version
        .order_by("listing__key")
    )
    offers = _offers(site, installations)
    open_requests = {
        row["installation_id"]: row
        for row in UpgradeRequest.objects.filter(installation__site_id=site.pk, state=RequestState.PENDING).values(
            "installation_id", "id", "to_version_id", "created_at"
        )
    }
    scheduled = {
        row["installation_id"]: row
        for row in Upgrade.objects.filter(installation__site_id=site.pk, state=UpgradeState.SCHEDULED).values(
            "installation_id", "id", "to_version_id", "due_at"
        )
    }
    items = []
    for installation in installations:
        offer = offers.get(installation.pk)
        update = None
        if offer is not None:
            version = offer["version"]
            reasons = offer["reasons"]
            request = open_requests.get(installation.pk)
            upgrade = scheduled.get(installation.pk)
            update = {
                "number": version.number,
                "build_number": version.build_number,
                "coordinates": f"{installation.listing.key}@{version.number}",
                "channel": version.channel,
                "update_notes": version.update_notes,
                "consent_required": bool(reasons),
                "reasons": reasons,
                # Only the internal market's reminder waits: one click upgrades, no review page needed.
                "one_click": bool(reasons) and all(r["code"] == policies.INTERNAL_MARKET_UPDATE for r in reasons),
                # An app group's upgrade lists the components it updates.
                "components": (
                    policies.component_changes(installation.version.components, version.components)
                    if installation.listing.scheme == BUNDLE
                    else []
                ),
                "request": (
                    {"id": request["id"], "state": "pending"}
                    if request and request["to_version_id"] == version.pk
                    else None
                ),
                "scheduled_at": upgrade["due_at"] if upgrade and upgrade["to_version_id"] == version.pk else None,
            }
            if offer.get("move_off"):  # issue #16: this offer moves the installation off a yanked version
                update["move_off"] = offer["move_off"]
        items.append(
            {
                "installation": installation.pk,
                "listing": installation.listing.key,
                "name": installation.listing.name,
                "state": installation.state,
                "installed": {
                    "number": installation.version.number,
                    "build_number": installation.version.build_number,
                    # A member installed it to test it before publication (upgrades.services.testing).
                    "under_test": installation.version.state not in policies.RELEASED_STATES,
                    # Issue #16: the vendor's reason, only when the running version was yanked.
                    **({"yanked_reason": installation.yank_reason} if installation.yank_reason else {}),
                },
                "update": update,
            }
        )
    return {
        "site": site.pk,
        "checked_at": timezone.now(),
        "installations": len(items),
        "updates_available": sum(1 for i in items if i["update"]),
        "items": items,
    }


def installation_update(installation: Installation) -> dict[str, Any] | None:
    """The one installation's offer (what the manual Upgrade button installs)."""
    if not hasattr(installation, "yank_reason"):  # issue #16: a way off a yanked version
        installation.yank_reason = (
            VersionYank.objects.filter(version_id=installation.version_id).values_list("reason", flat=True).first()
        )
    return _offers(installation.site, [installation]).get(installation.pk)
