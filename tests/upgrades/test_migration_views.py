"""The site admin's pages: the "Move to another product" form and the result page with its Upgrade buttons."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory, VersionFactory
from tests.upgrades.migration_world import BITBUCKET, STASH, app, install, stash_site
from upgrades.models import Installation, MigrationOffer, ProductMigration

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def setup(products, catalogue):
    site, admin = stash_site(products)
    hooks, hooks_old, hooks_new = app()
    legacy, legacy_old, _ = app(stash="2.0.0", bitbucket=None)
    VersionFactory(listing=legacy, number="2.0.0-bitbucket", compatibility=BITBUCKET, state="published")
    return site, admin, install(site, hooks, hooks_old), install(site, legacy, legacy_old), hooks_new


def test_site_page_has_the_move_form(setup):
    site, admin, *_ = setup
    html = signed_in(admin).get(f"/upgrades/sites/{site.pk}/").content.decode()
    assert "Move to another product" in html
    assert '<option value="bitbucket-server">Bitbucket Server</option>' in html
    assert '<option value="stash">' not in html  # the product it already runs
    assert f"<title>{site.name} · App Marketplace</title>" in html


def test_move_then_upgrade_from_the_result_page(setup):
    site, admin, hooks, _legacy, hooks_new = setup
    client = signed_in(admin)
    response = client.post(
        f"/upgrades/sites/{site.pk}/migrate/",
        {"host_product": "bitbucket-server", "host_version": "4.0", "confirmed": "yes"},
    )
    migration = ProductMigration.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/upgrades/sites/{site.pk}/migrations/{migration.pk}/"
    )
    page = client.get(response["Location"]).content.decode()
    hooks_offer = MigrationOffer.objects.get(installation=hooks)
    assert f'action="/upgrades/sites/{site.pk}/migration-offers/{hooks_offer.pk}/accept/"' in page
    assert "Upgrade to 1.3.0" in page and "csrfmiddlewaretoken" in page
    assert (
        "No upgrade: 2.0.0-bitbucket sorts below the installed 2.0.0: a pre-release is lower than its release; "
        "ask the vendor for 2.0.1-bitbucket or higher"
    ) in page
    site_page = client.get(f"/upgrades/sites/{site.pk}/").content.decode()
    assert "2 app(s) are switched off since the move to Bitbucket Server" in site_page

    accepted = client.post(f"/upgrades/sites/{site.pk}/migration-offers/{hooks_offer.pk}/accept/", follow=True)
    assert "is on 1.3.0 and switched on again" in accepted.content.decode()
    assert Installation.objects.get(pk=hooks.pk).version == hooks_new
    twice = client.post(f"/upgrades/sites/{site.pk}/migration-offers/{hooks_offer.pk}/accept/", follow=True)
    assert "was already upgraded to 1.3.0; nothing changed" in twice.content.decode()


def test_get_never_accepts(setup):
    site, admin, hooks, *_ = setup
    client = signed_in(admin)
    client.post(
        f"/upgrades/sites/{site.pk}/migrate/",
        {"host_product": "bitbucket-server", "host_version": "4.0", "confirmed": "yes"},
    )
    offer = MigrationOffer.objects.get(installation=hooks)
    assert client.get(f"/upgrades/sites/{site.pk}/migration-offers/{offer.pk}/accept/").status_code == 405
    assert MigrationOffer.objects.get(pk=offer.pk).state == "offered"


@pytest.mark.parametrize(
    ("data", "error_id", "words"),
    [
        ({"host_product": "", "host_version": "4.0"}, "id_host_product_error", "not known to the marketplace"),
        ({"host_product": "bitbucket-server", "host_version": "4.x"}, "id_host_version_error", "is invalid"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(setup, data, error_id, words):
    site, admin, hooks, *_ = setup
    response = signed_in(admin).post(f"/upgrades/sites/{site.pk}/migrate/", data)
    html = response.content.decode()
    assert response.status_code == 400
    start = html.index(f'id="{error_id}"')
    assert words in html[start : start + 400]
    assert not ProductMigration.objects.exists() and Installation.objects.get(pk=hooks.pk).state == "active"


def test_other_sites_admin_gets_not_found(setup):
    site, admin, hooks, *_ = setup
    signed_in(admin).post(
        f"/upgrades/sites/{site.pk}/migrate/",
        {"host_product": "bitbucket-server", "host_version": "4.0", "confirmed": "yes"},
    )
    migration = ProductMigration.objects.get()
    offer = MigrationOffer.objects.get(installation=hooks)
    stranger = signed_in(UserFactory())
    assert (
        stranger.post(
            f"/upgrades/sites/{site.pk}/migrate/", {"host_product": "stash", "host_version": "3.11"}
        ).status_code
        == 404
    )
    assert stranger.get(f"/upgrades/sites/{site.pk}/migrations/{migration.pk}/").status_code == 404
    assert stranger.post(f"/upgrades/sites/{site.pk}/migration-offers/{offer.pk}/accept/").status_code == 404
    assert ProductMigration.objects.count() == 1 and MigrationOffer.objects.get(pk=offer.pk).state == "offered"


def test_admin_pages_are_read_only(setup, admin_client):
    site, admin, *_ = setup
    signed_in(admin).post(
        f"/upgrades/sites/{site.pk}/migrate/",
        {"host_product": "bitbucket-server", "host_version": "4.0", "confirmed": "yes"},
    )
    migration = ProductMigration.objects.get()
    assert admin_client.get("/admin/upgrades/productmigration/").status_code == 200
    detail = admin_client.get(f"/admin/upgrades/productmigration/{migration.pk}/change/")
    assert detail.status_code == 200 and "2.0.0-bitbucket sorts below" in detail.content.decode()
    assert admin_client.get("/admin/upgrades/migrationoffer/").status_code == 200
    assert admin_client.get("/admin/upgrades/productmigration/add/").status_code == 403


def test_result_page_notes_an_offer_whose_build_numbers_disagree_with_version_order(products, catalogue):
    from tests.factories import ListingFactory

    site, admin = stash_site(products)
    listing = ListingFactory()
    VersionFactory(listing=listing, number="1.2.3", compatibility=BITBUCKET, state="published")
    stash = VersionFactory(listing=listing, number="1.2.3-stash", compatibility=STASH, state="superseded")
    install(site, listing, stash)
    client = signed_in(admin)
    response = client.post(
        f"/upgrades/sites/{site.pk}/migrate/",
        {"host_product": "bitbucket-server", "host_version": "4.0", "confirmed": "yes"},
        follow=True,
    )
    page = response.content.decode()
    assert "Upgrade to 1.2.3" in page
    assert (
        "Note: build numbers disagree with version order: 1.2.3 is the higher version but has the lower build" in page
    )


def test_move_asks_for_confirmation_listing_what_will_be_switched_off(setup):
    site, admin, hooks, *_ = setup
    client = signed_in(admin)
    response = client.post(
        f"/upgrades/sites/{site.pk}/migrate/", {"host_product": "bitbucket-server", "host_version": "4.0"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="danger-zone"' in html and 'class="danger"' in html
    assert "2 apps will be switched off" in html
    assert hooks.listing.name in html
    assert 'name="confirmed" value="yes"' in html and 'name="host_version" value="4.0"' in html
    assert not ProductMigration.objects.exists()
    assert Installation.objects.get(pk=hooks.pk).state == "active"


def test_the_confirmation_refuses_the_product_the_site_already_runs_next_to_the_field(setup):
    site, admin, *_ = setup
    response = signed_in(admin).post(
        f"/upgrades/sites/{site.pk}/migrate/", {"host_product": "stash", "host_version": "x"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "already runs" in html and "is invalid" in html  # both fields in one pass
    assert 'href="#id_host_product"' in html
    assert not ProductMigration.objects.exists()
