"""Reads of the storefront: what a customer may see, a listing's page, where it can be installed.

What a customer sees: public listings that are not archived and have a live
version on the release channel (OCP -dev, -beta and -private versions never
count: betas reach sites through share links). A private listing shows only to
the admins of its allowed sites. Every read here costs a fixed number of
queries whatever the number of listings (pinned in tests).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from core.errors import NotFound
from marketplace.models import Category, HostProduct, Listing, ListingScreenshot, Scope
from marketplace.scopes import SENSITIVITY_NAMES, guess_sensitivity, scope_words
from upgrades.models import Installation, InstallationState, Site, SiteAdmin
from upgrades.permissions import site_admin_filter
from versions import policies
from versions.models import Version, VersionYank

RUNNING_STATES = (InstallationState.ACTIVE, InstallationState.PENDING_CONSENT)


def _live_versions() -> QuerySet[Version]:
    # A yanked live version (issue #16) is installable by nobody: the app leaves the storefront until the next one.
    # NOT EXISTS, not `yank__isnull=True`: PostgreSQL can't tell that the LEFT JOIN ... IS NULL the latter
    # makes is an anti-join, guesses that 0.5% of versions are live, and then walks every listing through
    # its versions, matching each search document by hand, instead of reading the GIN index (bench/catalogue.py).
    yanked = VersionYank.objects.filter(version_id=OuterRef("pk"))
    return Version.objects.filter(
        ~Exists(yanked), listing_id=OuterRef("pk"), state=policies.PUBLISHED, channel="release"
    )


def _admin_site_ids(user: Any) -> QuerySet[SiteAdmin]:
    return SiteAdmin.objects.filter(site_admin_filter(user)).values("site_id")


def catalogue_listings(*, user: Any) -> QuerySet[Listing]:
    """Every listing this visitor may see in the storefront, with what a result card shows."""
    visible = Q(visibility=Listing.Visibility.PUBLIC)
    if getattr(user, "is_authenticated", False):
        through = Listing.allowed_sites.through
        visible |= Q(visibility=Listing.Visibility.PRIVATE) & Exists(
            through.objects.filter(listing_id=OuterRef("pk"), site_id__in=_admin_site_ids(user))
        )
    installs = (
        Installation.objects.filter(listing_id=OuterRef("pk"), state__in=RUNNING_STATES)
        .order_by()
        .values("listing_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    live = _live_versions()
    return (
        Listing.objects.filter(visible, archived_at__isnull=True)
        .filter(Exists(live))
        .select_related("vendor")
        .annotate(
            version_number=Subquery(live.values("number")[:1]),
            released_at=Subquery(live.values("published_at")[:1]),
            active_installs=Coalesce(Subquery(installs, output_field=IntegerField()), Value(0)),
        )
        .prefetch_related(
            Prefetch("host_products", queryset=HostProduct.objects.order_by("name")),
            Prefetch("categories", queryset=Category.objects.order_by("name")),
        )
    )


def catalogue_listing_get(*, user: Any, key: str) -> Listing:
    listing = (
        catalogue_listings(user=user)
        .filter(key=key)
        .prefetch_related(Prefetch("screenshots", queryset=ListingScreenshot.objects.order_by("position", "pk")))
        .first()
    )
    if listing is None:
        raise NotFound(f"No app {key!r} in the marketplace.", field="key")
    return listing


def listing_live_version(listing: Listing) -> Version:
    return Version.objects.get(listing_id=listing.pk, state=policies.PUBLISHED, channel="release")


def listing_version_history(listing: Listing, *, limit: int = 20) -> list[Version]:
    """Released versions on the release channel, newest first, with their update notes."""
    return list(
        Version.objects.filter(listing_id=listing.pk, state__in=policies.RELEASED_STATES, channel="release")
        .only("id", "number", "update_notes", "published_at", "pricing", "state", "listing_id")
        .order_by("-sort_key", "-build_number")[:limit]
    )


def describe_scopes(names: list[str]) -> list[dict[str, Any]]:
    """Scopes in plain language: the catalogue's description, or words made from the scope's
    name when the catalogue has none (an unknown scope says so: the marketplace can't vouch for it)."""
    known = {s.name: s for s in Scope.objects.filter(name__in=names)}
    rows = []
    for name in sorted(names):
        scope = known.get(name)
        text = scope_words(name, scope.description if scope is not None else "")
        if scope is None:
            text += " (not in the marketplace's scope catalogue)"
        level = scope.sensitivity if scope is not None else guess_sensitivity(name)
        rows.append({"name": name, "description": text, "sensitivity": SENSITIVITY_NAMES.get(level, "admin")})
    return rows


def install_choices(*, user: Any, listing: Listing, version: Version) -> list[dict[str, Any]]:
    """The sites this user administers, each with whether the app can be installed there and,
    if not, why (shown greyed out with the reason)."""
    if not getattr(user, "is_authenticated", False):
        return []
    sites = list(
        Site.objects.filter(pk__in=_admin_site_ids(user)).select_related("host_product").order_by("name", "pk")
    )
    products = {p.key: p.name for p in listing.host_products.all()}
    installed = dict(
        Installation.objects.filter(listing_id=listing.pk, site_id__in=[s.pk for s in sites]).values_list(
            "site_id", "state"
        )
    )
    allowed: set[int] = set()
    if listing.visibility == Listing.Visibility.PRIVATE:
        allowed = set(listing.allowed_sites.filter(pk__in=[s.pk for s in sites]).values_list("pk", flat=True))
    choices = []
    for site in sites:
        reason = ""
        state = installed.get(site.pk)
        if state and state != InstallationState.UNINSTALLED:
            reason = "already installed"
        elif listing.visibility == Listing.Visibility.PRIVATE and site.pk not in allowed:
            reason = "this private app is not open to this site"
        else:
            reason = policies.host_refusal(
                listing_name=listing.name,
                listing_products=products,
                compatibility=version.compatibility,
                site_product_key=site.host_product.key,
                site_product_name=site.host_product.name,
                site_version=site.host_version,
            )
        choices.append({"site": site, "available": not reason, "reason": reason})
    return choices


def administered_sites(*, user: Any) -> list[Site]:
    return list(Site.objects.filter(pk__in=_admin_site_ids(user)).select_related("host_product").order_by("name", "pk"))
