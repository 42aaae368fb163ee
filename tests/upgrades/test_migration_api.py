"""REST API of product migrations: move a site, read the offers, accept one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory, VersionFactory
from tests.upgrades.migration_world import BITBUCKET, app, install, stash_site
from upgrades import services
from upgrades.models import Installation, MigrationOffer, ProductMigration, UpgradeRequest

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def setup(products, catalogue):
    site, admin = stash_site(products)
    hooks, hooks_old, hooks_new = app(bitbucket_scopes=["write:jira-work"])
    legacy, legacy_old, _ = app(stash="2.0.0", bitbucket=None)
    VersionFactory(listing=legacy, number="2.0.0-bitbucket", compatibility=BITBUCKET, state="published")
    return {
        "site": site,
        "admin": admin,
        "hooks": install(site, hooks, hooks_old),
        "legacy": install(site, legacy, legacy_old),
        "hooks_new": hooks_new,
    }


def test_move_returns_the_offers_and_reasons(setup):
    site, admin = setup["site"], setup["admin"]
    response = client_for(admin).post(
        f"/api/v1/sites/{site.pk}/migrations",
        {"host_product": "bitbucket-server", "host_version": "4.1"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["from"] == {"product": "stash", "version": "3.10.2"}
    assert data["to"] == {"product": "bitbucket-server", "version": "4.1"}
    assert data["migrated_by"] == admin.username and data["deactivated"] == 2
    offers = {o["listing"]: o for o in data["offers"]}
    hooks = offers[setup["hooks"].listing.key]
    assert (hooks["state"], hooks["offered"], hooks["consent_required"], hooks["acceptable"]) == (
        "offered",
        "1.3.0",
        True,
        True,
    )
    assert hooks["consent_reasons"][0]["scope"] == "write:jira-work"
    legacy = offers[setup["legacy"].listing.key]
    assert (legacy["state"], legacy["offered"], legacy["code"]) == ("unavailable", None, "not_greater")
    assert legacy["reason"] == (
        "2.0.0-bitbucket sorts below the installed 2.0.0: a pre-release is lower than its release; "
        "ask the vendor for 2.0.1-bitbucket or higher; build numbers disagree with version order: "
        "2.0.0-bitbucket has the higher build (2 > 1) but the lower version, so tools that go by build number "
        "would offer it as newer"
    )

    listed = client_for(admin).get(f"/api/v1/sites/{site.pk}/migrations/{data['id']}/offers")
    assert listed.status_code == 200 and listed.json()["offers"] == data["offers"]
    history = client_for(admin).get(f"/api/v1/sites/{site.pk}/migrations").json()
    assert [m["id"] for m in history["results"]] == [data["id"]]


def test_accept_upgrades_and_records_consent_and_is_idempotent(setup):
    site, admin = setup["site"], setup["admin"]
    migration = services.site_migrate_product(
        site=site, host_product="bitbucket-server", host_version="4.0", actor=admin
    )
    offer = MigrationOffer.objects.get(migration=migration, installation=setup["hooks"])
    url = f"/api/v1/sites/{site.pk}/migration-offers/{offer.pk}/accept"
    first = client_for(admin).post(url)
    assert first.status_code == 200, first.json()
    body = first.json()
    assert body["state"] == "accepted" and body["accepted_by"] == admin.username and body["acceptable"] is False
    installation = Installation.objects.get(pk=setup["hooks"].pk)
    assert installation.version == setup["hooks_new"] and installation.state == "active"
    request = UpgradeRequest.objects.get(installation=installation)
    assert request.state == "approved" and request.decided_by == admin
    again = client_for(admin).post(url)
    assert again.status_code == 200 and again.json() == body
    assert UpgradeRequest.objects.count() == 1


def test_refusals_are_clear(setup):
    site, admin = setup["site"], setup["admin"]
    url = f"/api/v1/sites/{site.pk}/migrations"
    bad = client_for(admin).post(url, {"host_product": "bamboo", "host_version": "4.0"}, format="json")
    assert bad.status_code == 400 and "not known to the marketplace" in bad.json()["host_product"][0]
    bad = client_for(admin).post(url, {"host_product": "bitbucket-server", "host_version": "four"}, format="json")
    assert bad.status_code == 400 and "Host product version 'four' is invalid" in bad.json()["host_version"][0]
    assert not ProductMigration.objects.exists()

    stranger = UserFactory()
    denied = client_for(stranger).post(url, {"host_product": "bitbucket-server", "host_version": "4.0"}, format="json")
    assert denied.status_code == 404 and not ProductMigration.objects.exists()
    assert APIClient().post(url, {}, format="json").status_code in (401, 403)

    migration = services.site_migrate_product(
        site=site, host_product="bitbucket-server", host_version="4.0", actor=admin
    )
    offers = {o.installation_id: o for o in migration.offers.all()}
    legacy = offers[setup["legacy"].pk]
    refused = client_for(admin).post(f"/api/v1/sites/{site.pk}/migration-offers/{legacy.pk}/accept")
    assert refused.status_code == 400 and "2.0.0-bitbucket sorts below" in refused.json()["offer"][0]
    hooks = offers[setup["hooks"].pk]
    hidden = client_for(stranger).post(f"/api/v1/sites/{site.pk}/migration-offers/{hooks.pk}/accept")
    assert hidden.status_code == 404
    assert client_for(stranger).get(f"/api/v1/sites/{site.pk}/migrations/{migration.pk}/offers").status_code == 404
    assert MigrationOffer.objects.get(pk=hooks.pk).state == "offered"


def test_site_token_reads_offers_but_cannot_move(setup):
    site, admin = setup["site"], setup["admin"]
    migration = services.site_migrate_product(
        site=site, host_product="bitbucket-server", host_version="4.0", actor=admin
    )
    _, raw = services.site_token_create(site=site)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    read = client.get(f"/api/v1/sites/{site.pk}/migrations/{migration.pk}/offers")
    assert read.status_code == 200 and len(read.json()["offers"]) == 2
    moved = client.post(
        f"/api/v1/sites/{site.pk}/migrations", {"host_product": "stash", "host_version": "3.11"}, format="json"
    )
    assert moved.status_code == 403 and ProductMigration.objects.count() == 1
