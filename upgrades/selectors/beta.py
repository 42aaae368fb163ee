"""Reads for OCP beta share links: a version's links with their install counts, and what
a link's page shows (the app, the beta, its scopes and price, the admin's sites)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from core.errors import NotFound
from marketplace.models import Listing
from marketplace.scopes import SENSITIVITY_NAMES, scope_sensitivity
from marketplace.selectors import scope_catalogue
from upgrades.models import BetaShareLink, Installation, Rollout, RolloutState, Site, SiteAdmin
from upgrades.permissions import site_admin_filter
from upgrades.share_links import beta_link_token, beta_link_url
from versions.models import Version
from versions.policies import beta_link_refusal, beta_site_refusal


def beta_share_link_list(*, version: Version) -> QuerySet[BetaShareLink]:
    """The version's links, newest first, each with `install_count` (one query)."""
    return (
        BetaShareLink.objects.filter(version=version)
        .select_related("created_by", "revoked_by")
        .annotate(install_count=Count("installs"))
        .order_by("-created_at", "-id")
    )


def beta_share_link_get(*, version: Version, pk: int) -> BetaShareLink:
    link = beta_share_link_list(version=version).filter(pk=pk).first()
    if link is None:
        raise NotFound("No such share link for this version.", field="link")
    return link


def beta_link_data(link: BetaShareLink, *, now=None) -> dict[str, Any]:
    """A link as the vendor's page and the API show it."""
    now = now or timezone.now()
    status = "revoked" if link.revoked_at else ("expired" if link.expires_at <= now else "active")
    return {
        "id": link.pk,
        "version": link.version_id,
        "url": beta_link_url(link),
        "token": beta_link_token(link),
        "status": status,
        "created_at": link.created_at,
        "created_by": link.created_by.get_username() if link.created_by_id else None,
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "installs": link.install_count if hasattr(link, "install_count") else link.installs.count(),
    }


def version_beta_panel(*, version: Version) -> dict[str, Any] | None:
    """The share-link box of an OCP beta version's page (None for any other version)."""
    if version.listing.scheme != "ocp" or version.channel != "beta":
        return None
    return {
        "links": [beta_link_data(link) for link in beta_share_link_list(version=version)],
        "refusal": beta_link_refusal(version),
    }


def beta_version_scopes(version: Version) -> list[dict[str, Any]]:
    """The beta's scopes, each with its sensitivity (unknown scopes count as the most sensitive)."""
    catalogue = scope_catalogue()
    return [
        {
            "scope": scope,
            "sensitivity": SENSITIVITY_NAMES[scope_sensitivity(scope, catalogue)],
            "known": scope in catalogue,
        }
        for scope in sorted(version.scopes)
    ]


def beta_sites_for_user(*, user: Any, version: Version) -> list[dict[str, Any]]:
    """The sites the user administers (only those: marketplace staff
    consent for no customer), each with what Install would do.

    A fixed number of queries whatever the number of sites: the sites, their installations
    of the listing, whether the vendor paused the beta's rollout (and, for a private listing,
    which of the sites it allows).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    sites = list(
        Site.objects.filter(Exists(SiteAdmin.objects.filter(site_admin_filter(user), site=OuterRef("pk"))))
        .select_related("host_product")
        .order_by("name")
    )
    installations = {
        i.site_id: i
        for i in Installation.objects.filter(site__in=sites, listing_id=version.listing_id).select_related("version")
    }
    halted = Rollout.objects.filter(version_id=version.pk, state=RolloutState.HALTED).exists()
    allowed: set[int] = set()
    if version.listing.visibility == Listing.Visibility.PRIVATE:
        allowed = set(version.listing.allowed_sites.filter(pk__in=[s.pk for s in sites]).values_list("pk", flat=True))
    rows = []
    for site in sites:
        installation = installations.get(site.pk)
        refusal = beta_site_refusal(
            version,
            site,
            installation,
            site_allowed=version.listing.visibility != Listing.Visibility.PRIVATE or site.pk in allowed,
            rollout_halted=halted,
        )
        if refusal is not None:
            action = refusal.message.removesuffix("; nothing changed.")
        elif installation is None:
            action = f"installs {version.number}"
        else:
            action = f"upgrades {installation.version.number} to {version.number}"
        rows.append({"site": site, "installation": installation, "refusal": refusal, "action": action})
    return rows
