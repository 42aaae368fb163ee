"""Reads of private testing: the versions a signed-in user was invited to test, and their sites.

Only members see a version before it is published (versions.policies.member_access_refusal);
these reads never list a version whose members do not include the user's address.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from marketplace.models import Listing
from upgrades.models import Installation, InstallationState, Site, SiteAdmin
from upgrades.permissions import site_admin_filter
from versions import policies
from versions.models import Version


def _email(user: Any) -> str:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ""
    return policies.normalise_email(getattr(user, "email", ""))


def versions_for_member(*, user: Any) -> list[Version]:
    """Versions open for testing whose members include the user's address, newest submission first.

    The text filter narrows the rows in SQL on every database (members are stored lower-case);
    the exact membership is then checked on each row, so "bob@x.org" never matches "rbob@x.org".
    """
    email = _email(user)
    if not email:
        return []
    candidates = (
        Version.objects.filter(
            state__in=policies.MEMBER_ACCESS_STATES,
            listing__archived_at__isnull=True,
            members__icontains=email,
        )
        .select_related("listing", "listing__vendor")
        .order_by("-submitted_at", "-pk")
    )
    return [v for v in candidates if policies.is_version_member(v.members, email)]


def sites_administered_by(user: Any) -> QuerySet[Site]:
    return (
        Site.objects.filter(Exists(SiteAdmin.objects.filter(site_admin_filter(user), site=OuterRef("pk"))))
        .select_related("host_product")
        .order_by("name")
    )


def member_sites_for_user(*, user: Any, version: Version) -> list[dict[str, Any]]:
    """The sites the user administers, each with what Install would do (or why it can't).

    A fixed number of queries whatever the number of sites: the sites, their installations
    of the listing and (for a private listing) which of them it allows.
    """
    if not _email(user):
        return []
    listing = version.listing
    sites = list(sites_administered_by(user))
    installations = {
        i.site_id: i
        for i in Installation.objects.filter(site__in=sites, listing_id=listing.pk).select_related("version")
    }
    private = listing.visibility == Listing.Visibility.PRIVATE
    allowed: set[int] = set()
    if private:
        allowed = set(listing.allowed_sites.filter(pk__in=[s.pk for s in sites]).values_list("pk", flat=True))
    rows = []
    for site in sites:
        installation = installations.get(site.pk)
        refusal = policies.install_refusal(
            scheme=listing.scheme,
            channel=version.channel,
            listing_private=private,
            listing_vendor_id=listing.vendor_id,
            site_sandbox_vendor_id=site.sandbox_vendor_id,
            site_allowed=not private or site.pk in allowed,
            invited=True,
        )
        if not refusal and not policies.host_compatible(
            version.compatibility, site.host_product.key, site.host_version
        ):
            refusal = f"it does not run on {site.host_product.name} {site.host_version}".strip()
        if not refusal and installation is not None:
            if installation.state == InstallationState.DEACTIVATED:
                refusal = "the app is switched off on this site (it moved to another product)"
            elif bytes(installation.version.sort_key) >= bytes(version.sort_key):
                refusal = (
                    "it already runs this version"
                    if installation.version_id == version.pk
                    else f"it runs {installation.version.number}, which is newer"
                )
        if refusal:
            action = refusal
        elif installation is None:
            action = f"installs {version.number}"
        else:
            action = f"upgrades {installation.version.number} to {version.number}"
        rows.append({"site": site, "installation": installation, "refusal": refusal, "action": action})
    return rows
