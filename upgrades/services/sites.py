"""Sites: API tokens, maintenance windows, installations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from core.errors import ApplicationError
from core.services import audit_record
from marketplace.models import Listing
from upgrades import windows
from upgrades.models import (
    Installation,
    Site,
    SiteToken,
)
from upgrades.permissions import require_site_admin
from upgrades.services.callbacks import lifecycle_event_enqueue
from versions import policies
from versions.models import Version
from versions.policies import RELEASED_STATES


def site_token_create(*, site: Site, name: str = "") -> tuple[SiteToken, str]:
    """A new API token for a customer instance; the raw token is returned once and never stored."""
    return SiteToken.issue(site=site, name=name[:80])


def site_update_settings(*, site: Site, actor: Any, auto_update: bool, maintenance_windows: Any) -> Site:
    """A site admin turns automatic updates on or off and sets the weekly maintenance windows."""
    require_site_admin(actor, site)
    cleaned = windows.clean_windows(maintenance_windows)
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        changes = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in (("auto_update", bool(auto_update)), ("maintenance_windows", cleaned))
            if getattr(locked, name) != value
        }
        site.auto_update = bool(auto_update)
        site.maintenance_windows = cleaned
        site.save(update_fields=["auto_update", "maintenance_windows"])
        if changes:
            audit_record(
                actor=actor,
                action="site.update_settings",
                obj=site,
                object_repr=site.name,
                from_state=_auto_update_state(locked.auto_update),
                to_state=_auto_update_state(site.auto_update),
                details={"changes": changes},
            )
    return site


def _auto_update_state(on: bool) -> str:
    return "auto_update_on" if on else "auto_update_off"


def site_set_maintenance_windows(*, site: Site, actor: Any, windows_: Any) -> Site:
    return site_update_settings(site=site, actor=actor, auto_update=site.auto_update, maintenance_windows=windows_)


def installation_create(
    *,
    site: Site,
    listing: Listing,
    version: Version,
    granted_scopes: Iterable[str] | None = None,
    license: str | None = None,
    actor: Any = None,
) -> Installation:
    """Install a listing on a site (the portal records it; demo data and tests use this).

    An OCP -dev version is refused on any site but its vendor's sandbox, as on every other
    path (versions.policies.sandbox_refusal).
    """
    if version.listing_id != listing.pk:
        raise ApplicationError(f"Version {version.number} is not a version of {listing.key}.", field="version")
    if version.state not in RELEASED_STATES:
        raise ApplicationError(f"{version} is not released: only published versions can be installed.", field="version")
    refusal = policies.sandbox_refusal(
        scheme=listing.scheme,
        channel=version.channel,
        listing_vendor_id=listing.vendor_id,
        site_sandbox_vendor_id=site.sandbox_vendor_id,
    )
    if refusal:
        raise ApplicationError(
            f"{version} can't be installed on {site.name}: {refusal}; nothing changed.", field="site"
        )
    with transaction.atomic():
        installation, created = Installation.objects.get_or_create(
            site=site,
            listing=listing,
            defaults={
                "version": version,
                "granted_scopes": sorted(version.scopes if granted_scopes is None else granted_scopes),
                "license": license or version.pricing,
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="installation.install",
                obj=installation,
                object_repr=listing.name,
                to_state=installation.state,
                details={"version": version.number},
            )
            lifecycle_event_enqueue(installation=installation, event="installed", actor=actor)
    return installation
