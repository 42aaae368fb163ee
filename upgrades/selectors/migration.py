"""Reads for product migrations: a site's moves, their offers, one offer (upgrades.services.migration writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from core.errors import NotFound
from marketplace.models import HostProduct
from upgrades.models import Installation, InstallationState, MigrationOffer, OfferState, ProductMigration, Site
from upgrades.selectors.sites import site_list_for_user


def migration_products_for(site: Site) -> QuerySet[HostProduct]:
    """The products a site may move to (every other product the marketplace knows)."""
    return HostProduct.objects.exclude(pk=site.host_product_id).order_by("name")


def product_migration_list(*, site: Site) -> QuerySet[ProductMigration]:
    return ProductMigration.objects.filter(site=site).select_related("from_product", "to_product", "migrated_by")


def site_switched_off_count(site: Site) -> int:
    """Apps switched off (by a move to another product) that the site page points to."""
    return Installation.objects.filter(site=site, state=InstallationState.DEACTIVATED).count()


def migration_switch_off_list(site: Site) -> QuerySet[Installation]:
    """The apps a move to another product would switch off (those not switched off already), by name."""
    return (
        Installation.objects.filter(site=site)
        .exclude(state=InstallationState.DEACTIVATED)
        .select_related("listing", "version")
        .order_by("listing__name", "pk")
    )


def product_migration_get_for_user(*, user: Any, site_pk: int, pk: int) -> ProductMigration:
    migration = (
        ProductMigration.objects.filter(pk=pk, site_id=site_pk, site__in=site_list_for_user(user=user))
        .select_related("site__host_product", "from_product", "to_product", "migrated_by")
        .first()
    )
    if migration is None:
        raise NotFound("No such product move among the sites you administer.")
    return migration


def migration_offer_list(*, migration: ProductMigration) -> QuerySet[MigrationOffer]:
    """Every installation's offer (or the reason there is none), apps by name; two queries in all."""
    return (
        MigrationOffer.objects.filter(migration=migration)
        .select_related(
            "installation__listing", "installation__version", "installed_version", "offered_version", "accepted_by"
        )
        .order_by("installation__listing__name", "pk")
    )


def migration_offer_get_for_user(*, user: Any, site_pk: int, pk: int) -> MigrationOffer:
    offer = (
        MigrationOffer.objects.filter(
            pk=pk, migration__site_id=site_pk, migration__site__in=site_list_for_user(user=user)
        )
        .select_related("migration", "installation__listing", "offered_version")
        .first()
    )
    if offer is None:
        raise NotFound("No such migration offer among the sites you administer.")
    return offer


def migration_offer_data(offer: MigrationOffer) -> dict[str, Any]:
    """One offer as the API shows it."""
    return {
        "id": offer.pk,
        "installation": offer.installation_id,
        "listing": offer.installation.listing.key,
        "name": offer.installation.listing.name,
        "installed": offer.installed_version.number,
        "state": offer.state,
        "code": offer.code,
        "offered": offer.offered_version.number if offer.offered_version_id else None,
        "reason": offer.reason or None,
        "consent_required": bool(offer.consent_reasons),
        "consent_reasons": offer.consent_reasons,
        "accepted_by": offer.accepted_by.get_username() if offer.accepted_by_id else None,
        "accepted_at": offer.accepted_at,
        "acceptable": offer.state == OfferState.OFFERED,
    }


def product_migration_data(migration: ProductMigration, offers: list[MigrationOffer]) -> dict[str, Any]:
    return {
        "id": migration.pk,
        "site": migration.site_id,
        "from": {"product": migration.from_product.key, "version": migration.from_version},
        "to": {"product": migration.to_product.key, "version": migration.to_version},
        "migrated_by": migration.migrated_by.get_username() if migration.migrated_by_id else None,
        "created_at": migration.created_at,
        "deactivated": migration.deactivated,
        "requests_superseded": migration.requests_superseded,
        "upgrades_superseded": migration.upgrades_superseded,
        "offers": [migration_offer_data(o) for o in offers],
    }


def migration_offers_keepable(*, offers: Iterable[MigrationOffer], site: Site) -> set[int]:
    """Offers without an upgrade whose installed version itself runs on the site's new product:
    the page offers to switch those apps back on as they are (services.migration_offer_keep decides again)."""
    from upgrades import offer_rules
    from versions import policies

    product_key = site.host_product.key
    return {
        o.pk
        for o in offers
        if o.state == OfferState.UNAVAILABLE
        and o.code == offer_rules.NOT_GREATER
        and policies.host_compatible(o.installed_version.compatibility, product_key, site.host_version)
    }
