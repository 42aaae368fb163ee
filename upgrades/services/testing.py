"""Private testing: the members of a version install it on their own sites before it is published.

DESIGN.md sections 4 and 10: a vendor names members ("who can access the
version while it is under review or in private testing"). While the version is
submitted (pending approval, in review, approved: its snapshot read-only), a
member who administers a site may install it there, or move the site's older
version of the listing to it. Nobody else can see or install it: to anyone who
is not a member, the version does not exist.

Pressing Install on a page that listed the version's scopes and price is the
admin's consent, as for a beta share link. When the version is published later
the installation simply runs a published version; a newer one reaches it
through the rollout like any other.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from upgrades.models import Installation, InstallationState, Site, Upgrade
from upgrades.permissions import is_site_admin
from upgrades.services._common import installation_create_active
from upgrades.services.beta import private_listing_allows
from upgrades.services.consent import installation_upgrade_now
from versions import policies
from versions.models import Version

NOT_A_MEMBER = "No such version among the versions you were invited to test."


def member_version_check(*, version_id: int, actor: Any, lock: bool = False) -> Version:
    """The version if `actor` is one of its members and it is open for testing; otherwise why not.

    Someone who is not a member is told the version does not exist (NotFound), whatever its state.
    `lock`: read it with its row locked (inside the caller's transaction).
    """
    versions = Version.objects.select_related("listing", "listing__vendor")
    if lock:
        versions = versions.select_for_update(of=("self",))
    version = versions.filter(pk=version_id).first()
    email = getattr(actor, "email", "") if getattr(actor, "is_authenticated", False) and actor.is_active else ""
    if version is None or not policies.is_version_member(version.members, email):
        raise NotFound(NOT_A_MEMBER, field="version")
    refusal = policies.member_access_refusal(version, email)
    if refusal:
        raise TransitionNotAllowed(refusal, field="version")
    return version


def member_install(*, version_id: int, site: Site | int, actor: Any) -> Installation:
    """Install a version under test on a site the member administers (or move the site's older version to it).

    The version row is locked first (a withdrawal, a rejection or a publication
    of this version waits, then this install sees its new state), then the site
    row, so two presses install once.
    """
    site_id = site if isinstance(site, int) else site.pk
    if not is_site_admin(actor, site_id):
        # Staff consent for no customer, and an unknown site looks like one you don't administer.
        raise NotFound("No such site among the sites you administer.", field="site")
    now = timezone.now()
    with transaction.atomic():
        version = member_version_check(version_id=version_id, actor=actor, lock=True)
        listing = version.listing
        site = Site.objects.select_for_update(of=("self",)).select_related("host_product").get(pk=site_id)
        refusal = policies.install_refusal(
            scheme=listing.scheme,
            channel=version.channel,
            listing_private=listing.visibility == listing.Visibility.PRIVATE,
            listing_vendor_id=listing.vendor_id,
            site_sandbox_vendor_id=site.sandbox_vendor_id,
            site_allowed=private_listing_allows(listing, site),
            invited=True,
        )
        if refusal:
            raise ApplicationError(
                f"{listing.name} {version.number} can't be installed on {site.name}: {refusal}; nothing changed.",
                field="site",
            )
        if not policies.host_compatible(version.compatibility, site.host_product.key, site.host_version):
            host = f"{site.host_product.name} {site.host_version}".strip()
            raise ApplicationError(
                f"{listing.name} {version.number} does not run on {host} ({site.name}); nothing changed.", field="site"
            )
        installation = (
            Installation.objects.select_for_update(of=("self",))
            .select_related("version")
            .filter(site_id=site.pk, listing_id=listing.pk)
            .first()
        )
        if installation is None:
            installation = installation_create_active(
                site=site,
                listing=listing,
                version=version,
                actor=actor,
                details={"version_state": version.state, "member_test": True},
                now=now,
            )
            return installation
        if installation.state == InstallationState.DEACTIVATED:
            raise TransitionNotAllowed(
                f"{listing.name} is switched off on {site.name} (the site moved to another product): "
                "use the move's page to switch it on first; nothing changed.",
                field="site",
            )
        if bytes(installation.version.sort_key) >= bytes(version.sort_key):
            what = (
                "already runs"
                if installation.version_id == version.pk
                else f"runs {installation.version.number}, newer than"
            )
            raise TransitionNotAllowed(
                f"{site.name} {what} {listing.name} {version.number}; nothing changed.", field="site"
            )
        _upgrade_to_test_version(installation, version, actor, now)
        installation.refresh_from_db()  # the upgrade moved it with a bulk UPDATE
    return installation


def _upgrade_to_test_version(installation: Installation, version: Version, actor: Any, now) -> Upgrade:
    """Move a locked installation to the version under test at once (the member pressed Install
    on a page that listed the scopes and the price)."""
    _reasons, upgrade = installation_upgrade_now(
        installation=installation,
        version=version,
        actor=actor,
        now=now,
        replaced_by=f"replaced by {version.number} under test",
        outcome=f"installed {version.number} ({version.get_state_display().lower()}) as a member testing it",
        member_test=True,
    )
    return upgrade
