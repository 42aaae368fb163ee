"""After a product move, an app whose installed version already runs on the new product (and has
nothing greater) can be switched back on as it is."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError, NotFound
from tests.factories import ListingFactory, UserFactory, VersionFactory
from tests.upgrades.migration_world import BITBUCKET, STASH, app, install, stash_site
from upgrades import services
from upgrades.models import Installation, MigrationOffer, Upgrade

pytestmark = pytest.mark.django_db
BOTH = STASH + BITBUCKET


def move(site, admin):
    return services.site_migrate_product(site=site, host_product="bitbucket-server", host_version="4.0", actor=admin)


def universal_app():
    """A listing whose only (live) version runs on Stash and on Bitbucket Server."""
    listing = ListingFactory()
    version = VersionFactory(listing=listing, number="2.0.0", compatibility=BOTH, state="published")
    return listing, version


def test_keep_switches_the_app_on_at_its_version(products, catalogue, client):
    site, admin = stash_site(products)
    listing, version = universal_app()
    installation = install(site, listing, version)
    migration = move(site, admin)
    offer = MigrationOffer.objects.get(migration=migration, installation=installation)
    assert (offer.state, offer.code) == ("unavailable", "not_greater")
    assert "already the newest version that supports Bitbucket Server 4.0" in offer.reason

    client.force_login(admin)
    page = client.get(f"/upgrades/sites/{site.pk}/migrations/{migration.pk}/").content.decode()
    assert "Switch on again (2.0.0 runs on Bitbucket Server)" in page
    response = client.post(f"/upgrades/sites/{site.pk}/migration-offers/{offer.pk}/keep/")
    assert response.status_code == 302
    installation.refresh_from_db()
    offer.refresh_from_db()
    assert installation.state == "active" and installation.version == version
    assert offer.state == "accepted" and offer.accepted_by == admin and offer.offered_version == version
    assert not Upgrade.objects.filter(installation=installation).exclude(state="applied").exists()
    page = client.get(f"/upgrades/sites/{site.pk}/migrations/{migration.pk}/").content.decode()
    assert "switched on again on 2.0.0" in page
    # Twice changes nothing.
    again = services.migration_offer_keep(offer=offer.pk, actor=admin)
    assert again.accepted_at == offer.accepted_at


def test_an_incompatible_installed_version_cannot_be_kept(products, catalogue, client):
    site, admin = stash_site(products)
    listing, old, _ = app(stash="1.2.3", bitbucket="1.2.3-bitbucket")
    installation = install(site, listing, old)
    migration = move(site, admin)
    offer = MigrationOffer.objects.get(migration=migration, installation=installation)
    assert offer.code == "not_greater"
    client.force_login(admin)
    assert "Switch on again" not in client.get(f"/upgrades/sites/{site.pk}/migrations/{migration.pk}/").content.decode()
    with pytest.raises(ApplicationError) as exc:
        services.migration_offer_keep(offer=offer, actor=admin)
    assert exc.value.field == "offer" and "does not support Bitbucket Server 4.0" in exc.value.message
    assert Installation.objects.get(pk=installation.pk).state == "deactivated"


def test_an_offer_with_an_upgrade_is_not_kept_and_strangers_get_not_found(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app()
    installation = install(site, listing, old)
    offer = MigrationOffer.objects.get(migration=move(site, admin), installation=installation)
    assert offer.state == "offered"
    with pytest.raises(ApplicationError) as exc:
        services.migration_offer_keep(offer=offer, actor=admin)
    assert "Upgrade button" in exc.value.message
    with pytest.raises(NotFound):
        services.migration_offer_keep(offer=offer, actor=UserFactory())
    assert Installation.objects.get(pk=installation.pk).state == "deactivated"


def test_keep_over_the_api(products, catalogue):
    from rest_framework.test import APIClient

    site, admin = stash_site(products)
    listing, version = universal_app()
    installation = install(site, listing, version)
    offer = MigrationOffer.objects.get(migration=move(site, admin), installation=installation)
    api = APIClient()
    api.force_authenticate(admin)
    response = api.post(f"/api/v1/sites/{site.pk}/migration-offers/{offer.pk}/keep")
    assert response.status_code == 200, response.content
    assert Installation.objects.get(pk=installation.pk).state == "active"
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.post(f"/api/v1/sites/{site.pk}/migration-offers/{offer.pk}/keep").status_code == 404
