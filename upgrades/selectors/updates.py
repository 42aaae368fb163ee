"""Reads: the update check (the hot path), sites and installations, rollout progress, adoption."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
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
from versions.models import Version
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
        .only(*CANDIDATE_FIELDS)
        .order_by("listing_id", "-sort_key")
    )
    by_listing: dict[int, list[Version]] = {}
    for version in candidates:
        by_listing.setdefault(version.listing_id, []).append(version)
    offers: dict[int, dict[str, Any]] = {}
    catalogue = None
    for installation in installations:
        installation.site = site
        listing = installation.listing
        installed_key = bytes(installation.version.sort_key)
        for version in by_listing.get(listing.pk, ()):
            if bytes(version.sort_key) <= installed_key:
                break
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
    return _offers(installation.site, [installation]).get(installation.pk)
