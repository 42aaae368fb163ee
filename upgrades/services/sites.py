"""Sites: API tokens, maintenance windows, installations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.errors import ApplicationError
from marketplace.models import Listing
from upgrades import windows
from upgrades.models import (
    Installation,
    Site,
    SiteToken,
)
from upgrades.permissions import require_site_admin
from versions.models import Version
from versions.policies import RELEASED_STATES


def site_token_create(*, site: Site, name: str = "") -> tuple[SiteToken, str]:
    """A new API token for a customer instance; the raw token is returned once and never stored."""
    return SiteToken.issue(site=site, name=name[:80])


def site_update_settings(*, site: Site, actor: Any, auto_update: bool, maintenance_windows: Any) -> Site:
    """A site admin turns automatic updates on or off and sets the weekly maintenance windows."""
    require_site_admin(actor, site)
    cleaned = windows.clean_windows(maintenance_windows)
    site.auto_update = bool(auto_update)
    site.maintenance_windows = cleaned
    site.save(update_fields=["auto_update", "maintenance_windows"])
    return site


def site_set_maintenance_windows(*, site: Site, actor: Any, windows_: Any) -> Site:
    return site_update_settings(site=site, actor=actor, auto_update=site.auto_update, maintenance_windows=windows_)


def installation_create(
    *,
    site: Site,
    listing: Listing,
    version: Version,
    granted_scopes: Iterable[str] | None = None,
    license: str | None = None,
) -> Installation:
    """Install a listing on a site (the portal records it; demo data and tests use this)."""
    if version.listing_id != listing.pk:
        raise ApplicationError(f"Version {version.number} is not a version of {listing.key}.", field="version")
    if version.state not in RELEASED_STATES:
        raise ApplicationError(f"{version} is not released: only published versions can be installed.", field="version")
    installation, _ = Installation.objects.get_or_create(
        site=site,
        listing=listing,
        defaults={
            "version": version,
            "granted_scopes": sorted(version.scopes if granted_scopes is None else granted_scopes),
            "license": license or version.pricing,
        },
    )
    return installation
