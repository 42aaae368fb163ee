"""Reads on the catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from core.db import summary
from core.errors import NotFound
from marketplace.models import Category, HostProduct, Listing, ListingInvitation, Scope, Vendor
from marketplace.scopes import scope_words

SCOPE_CATALOGUE_CACHE_KEY = "scope-catalogue:v1"
SCOPE_REQUIREMENTS_CACHE_KEY = "scope-requirements:v1"


def scope_catalogue(*, stamp: str | None = None) -> dict[str, int]:
    """{scope name: sensitivity}; cached, invalidated when a Scope row changes (signals.py).

    `stamp`: the catalogue's state as the caller read it in a query of its own
    (scope_catalogue_stamp: count, last change, sum of sensitivities, last id). The process then
    keeps the catalogue it read for that stamp and asks neither the cache nor the database while
    the stamp holds: the update check reads the stamp with its site token, so it saves a round
    trip to the cache on every request. A new stamp reads the database, not the shared cache
    (which may lag behind the row the stamp saw).
    """
    global _CATALOGUE_BY_STAMP
    if stamp is not None:
        kept = _CATALOGUE_BY_STAMP
        if kept is not None and kept[0] == stamp:
            return kept[1]
        catalogue = dict(Scope.objects.values_list("name", "sensitivity"))
        _CATALOGUE_BY_STAMP = (stamp, catalogue)
        return catalogue
    catalogue = cache.get(SCOPE_CATALOGUE_CACHE_KEY)
    if catalogue is None:
        catalogue = dict(Scope.objects.values_list("name", "sensitivity"))
        cache.set(SCOPE_CATALOGUE_CACHE_KEY, catalogue, 300)
    return catalogue


_CATALOGUE_BY_STAMP: tuple[str, dict[str, int]] | None = None


def scope_catalogue_stamp() -> Subquery:
    """The scope catalogue's state as one text value, a scalar subquery for the caller's own
    statement: it changes whenever a scope is added, removed or changes its sensitivity (even
    through a bulk update, which leaves updated_at alone: the sum of sensitivities moves)."""
    return summary(Scope.objects.all(), ("pk", "COUNT"), ("pk", "MAX"), ("updated_at", "MAX"), ("sensitivity", "SUM"))


def vendors_of(user: Any) -> QuerySet[Vendor]:
    if not getattr(user, "is_authenticated", False):
        return Vendor.objects.none()
    return Vendor.objects.filter(memberships__user=user).distinct()


def listing_list(*, user: Any, include_archived: bool = False) -> QuerySet[Listing]:
    """The listings of every vendor the user belongs to."""
    qs = Listing.objects.filter(vendor__memberships__user=user).select_related("vendor").distinct()
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs.order_by("name")


def listing_get_for_user(*, user: Any, key: str) -> Listing:
    """A listing of the user's vendor; any other listing is 'not found' (no leak of its existence)."""
    listing = listing_list(user=user, include_archived=True).filter(key=key).first()
    if listing is None:
        raise NotFound(f"No listing {key!r} among your vendor's listings.")
    return listing


def host_product_list() -> QuerySet[HostProduct]:
    return HostProduct.objects.order_by("name")


def scope_requirements() -> dict[str, tuple[str, ...]]:
    """{scope name: the scope names it requires}; only scopes that require something. Cached like the catalogue."""
    requirements = cache.get(SCOPE_REQUIREMENTS_CACHE_KEY)
    if requirements is None:
        collected: dict[str, list[str]] = {}
        for scope, required in Scope.requires.through.objects.values_list("from_scope__name", "to_scope__name"):
            collected.setdefault(scope, []).append(required)
        requirements = {scope: tuple(sorted(names)) for scope, names in collected.items()}
        cache.set(SCOPE_REQUIREMENTS_CACHE_KEY, requirements, 300)
    return requirements


def scope_descriptions(names: Iterable[str]) -> dict[str, str]:
    """{scope: what it lets an app do, in plain language} for these scopes (one query)."""
    names = list(names)
    described = dict(Scope.objects.filter(name__in=names).values_list("name", "description")) if names else {}
    return {name: scope_words(name, described.get(name, "")) for name in names}


def scope_list() -> QuerySet[Scope]:
    """The scope catalogue for pickers, least sensitive first within a name order."""
    return Scope.objects.order_by("name")


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name")


def site_choices_for_listing() -> QuerySet[Any]:
    """Sites a vendor may name as the allowed sites of a private listing.

    The site model is reached through the listing's relation, so the catalogue
    imports nothing from the apps above it."""
    Site = Listing._meta.get_field("allowed_sites").related_model
    return Site.objects.select_related("host_product").order_by("name")


def vendor_team(*, vendor: Vendor) -> dict[str, Any]:
    """The members (with their users) and the open invitations of a vendor, for its team page."""
    from django.utils import timezone

    from marketplace.models import VendorInvitation, VendorMembership

    return {
        "members": VendorMembership.objects.filter(vendor=vendor)
        .select_related("user")
        .order_by("role", "user__email"),
        "invitations": VendorInvitation.objects.filter(
            vendor=vendor, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).select_related("invited_by"),
    }


def vendor_get_for_member(*, user: Any, slug: str) -> Vendor:
    vendor = vendors_of(user).filter(slug=slug).first()
    if vendor is None:
        raise NotFound("No such vendor among yours.")
    return vendor


def listing_invitations_pending(*, listing_id: int) -> QuerySet[ListingInvitation]:
    """Invitations a vendor can still revoke: not redeemed, not revoked, not expired (newest first)."""
    return ListingInvitation.objects.filter(
        listing_id=listing_id, redeemed_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-pk")
