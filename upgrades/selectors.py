"""Reads: the update check (the hot path), sites and installations, rollout progress, adoption."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from marketplace.errors import NotFound
from marketplace.models import Listing
from marketplace.permissions import is_staff
from marketplace.selectors import scope_catalogue
from upgrades import policies
from upgrades.models import (
    Installation,
    InstallationState,
    RequestState,
    Rollout,
    RolloutState,
    Site,
    SiteAdmin,
    SiteToken,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)
from upgrades.permissions import site_admin_filter
from upgrades.services import consent_reasons, reaches
from versions.models import State as VersionState
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
)


# --- sites -------------------------------------------------------------------------------


def site_for_token(raw: str) -> Site | None:
    token = SiteToken.active(raw).select_related("site__host_product").first()
    return token.site if token else None


def site_list_for_user(*, user: Any) -> QuerySet[Site]:
    qs = Site.objects.select_related("host_product")
    if is_staff(user):
        return qs
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    return qs.filter(Exists(SiteAdmin.objects.filter(site_admin_filter(user), site=OuterRef("pk"))))


def site_get_for_user(*, user: Any, pk: int) -> Site:
    site = site_list_for_user(user=user).filter(pk=pk).first()
    if site is None:
        raise NotFound("No such site among the sites you administer.")
    return site


def installation_list(*, site: Site) -> QuerySet[Installation]:
    return Installation.objects.filter(site=site).select_related("listing", "version").order_by("listing__name")


def upgrade_request_list(*, user: Any, state: str | None = RequestState.PENDING) -> QuerySet[UpgradeRequest]:
    qs = UpgradeRequest.objects.filter(installation__site__in=site_list_for_user(user=user)).select_related(
        "installation__site", "installation__listing", "from_version", "to_version", "decided_by"
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def upgrade_request_get_for_user(*, user: Any, pk: int) -> UpgradeRequest:
    request = upgrade_request_list(user=user, state=None).filter(pk=pk).first()
    if request is None:
        raise NotFound("No such upgrade request among your sites.")
    return request


# --- the update check ----------------------------------------------------------------------


def _offers(site: Site, installations: list[Installation]) -> dict[int, dict[str, Any]]:
    """For each installation, the newest version it may move to (a fixed number of queries).

    Candidates are released versions (published, or superseded in their channel)
    greater by precedence than what the site runs: one query, compared in SQL
    on the sort key. Audience and host compatibility are decided in memory.
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
        Version.objects.filter(listing_id__in=listing_ids, state__in=[VersionState.PUBLISHED, VersionState.SUPERSEDED])
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
        allowed = {site.pk} if listing.pk in allowed_listing_ids else set()
        installed_key = bytes(installation.version.sort_key)
        for version in by_listing.get(listing.pk, ()):
            if bytes(version.sort_key) <= installed_key:
                break
            if reaches(version, listing, installation, allowed):
                if catalogue is None:
                    catalogue = scope_catalogue()
                offers[installation.pk] = {
                    "version": version,
                    "reasons": consent_reasons(installation, version, listing, catalogue),
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
        .exclude(state=InstallationState.DEACTIVATED)
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
                "installed": {"number": installation.version.number, "build_number": installation.version.build_number},
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


# --- rollouts and adoption -----------------------------------------------------------------

SEGMENTS = (
    ("applied", "Applied", "#00875a"),
    ("scheduled", "Scheduled", "#0052cc"),
    ("awaiting_consent", "Awaiting consent", "#ff991f"),
    ("rejected", "Rejected", "#6b778c"),
    ("failed", "Failed", "#de350b"),
)


def _progress_rows(rollout_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {
        rid: dict.fromkeys([s[0] for s in SEGMENTS] + ["expired"], 0) for rid in rollout_ids
    }
    for row in (
        Upgrade.objects.filter(rollout_id__in=rollout_ids)
        .values("rollout_id")
        .annotate(
            applied=Count("pk", filter=Q(state=UpgradeState.APPLIED)),
            scheduled=Count("pk", filter=Q(state=UpgradeState.SCHEDULED)),
            failed=Count("pk", filter=Q(state=UpgradeState.FAILED)),
        )
    ):
        counts[row["rollout_id"]].update(applied=row["applied"], scheduled=row["scheduled"], failed=row["failed"])
    for row in (
        UpgradeRequest.objects.filter(rollout_id__in=rollout_ids)
        .values("rollout_id")
        .annotate(
            awaiting=Count("pk", filter=Q(state=RequestState.PENDING)),
            rejected=Count("pk", filter=Q(state=RequestState.REJECTED)),
            expired=Count("pk", filter=Q(state=RequestState.EXPIRED)),
        )
    ):
        counts[row["rollout_id"]].update(
            awaiting_consent=row["awaiting"], rejected=row["rejected"], expired=row["expired"]
        )
    return counts


def _with_segments(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts[s[0]] for s in SEGMENTS) + counts["expired"]
    segments = [
        {
            "key": key,
            "label": label,
            "color": color,
            "count": counts[key],
            "percent": round(100 * counts[key] / total, 1) if total else 0,
        }
        for key, label, color in SEGMENTS
    ]
    return {
        **counts,
        "total": total,
        "segments": segments,
        "done_percent": round(100 * counts["applied"] / total) if total else 0,
    }


def rollout_progress(rollout: Rollout) -> dict[str, Any]:
    return _with_segments(_progress_rows([rollout.pk])[rollout.pk])


def listing_rollouts(*, listing: Listing, limit: int = 5) -> list[dict[str, Any]]:
    """The listing's latest rollouts with their progress (three queries whatever the limit)."""
    rollouts = list(
        Rollout.objects.filter(listing=listing).select_related("version").order_by("-created_at", "-id")[:limit]
    )
    counts = _progress_rows([r.pk for r in rollouts])
    return [
        {
            "rollout": r,
            "progress": _with_segments(counts[r.pk]),
            "can_halt": r.state == RolloutState.RUNNING,
            "can_resume": r.state == RolloutState.HALTED,
        }
        for r in rollouts
    ]


def listing_adoption(*, listing: Listing) -> list[dict[str, Any]]:
    """Installations per version (newest first), for the adoption chart."""
    rows = list(
        Installation.objects.filter(listing=listing)
        .exclude(state=InstallationState.DEACTIVATED)
        .values("version__number", "version__sort_key")
        .annotate(installations=Count("pk"))
        .order_by("-version__sort_key")
    )
    total = sum(r["installations"] for r in rows)
    return [
        {
            "number": r["version__number"],
            "installations": r["installations"],
            "percent": round(100 * r["installations"] / total, 1) if total else 0,
        }
        for r in rows
    ]


def listing_rollout_panel(*, listing: Listing) -> dict[str, Any]:
    """Everything the vendor's listing page shows about rollouts (templates/upgrades/_rollout_progress.html)."""
    return {
        "listing": listing,
        "rollouts": listing_rollouts(listing=listing),
        "adoption": listing_adoption(listing=listing),
    }


def rollout_get_for_user(*, user: Any, pk: int) -> Rollout:
    from marketplace.permissions import is_vendor_member

    rollout = Rollout.objects.select_related("listing", "version").filter(pk=pk).first()
    if rollout is None or not (is_staff(user) or is_vendor_member(user, rollout.listing.vendor_id)):
        raise NotFound("No such rollout among your vendor's listings.")
    return rollout


# --- the approval page ------------------------------------------------------------------------


def upgrade_request_changes(request: UpgradeRequest) -> dict[str, Any]:
    """Exactly what approving changes: versions, scopes added/removed with sensitivity, price."""
    installation = request.installation
    catalogue = scope_catalogue()
    return {
        "from_number": installation.version.number if installation.version_id else request.from_version.number,
        "to_number": request.to_version.number,
        "scopes": policies.scope_changes_for_display(installation.granted_scopes, request.to_version.scopes, catalogue),
        "price": policies.price_change(installation.license, request.to_version.pricing),
        "update_notes": request.to_version.update_notes,
        "reasons": request.reasons,
    }


def upgrade_request_for_page(*, pk: int) -> UpgradeRequest:
    return UpgradeRequest.objects.select_related(
        "installation__site",
        "installation__listing",
        "installation__version",
        "from_version",
        "to_version",
        "decided_by",
    ).get(pk=pk)
