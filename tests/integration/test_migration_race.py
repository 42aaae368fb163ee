"""Double clicks on PostgreSQL with two real connections: two accepts of one offer make one
upgrade; two moves of one site to the same product make one move."""

from __future__ import annotations

import pytest
from django.db import connection

from core.errors import ApplicationError
from tests.concurrency import race
from tests.factories import HostProductFactory, SiteAdminFactory, UserFactory
from tests.upgrades.migration_world import app, install, stash_site
from upgrades import services
from upgrades.models import Installation, MigrationOffer, ProductMigration, Upgrade, UpgradeRequest

pytestmark = pytest.mark.django_db(transaction=True)


def _products():
    return HostProductFactory(key="stash", name="Stash"), HostProductFactory(
        key="bitbucket-server", name="Bitbucket Server"
    )


def test_two_admins_accepting_one_offer_at_once_make_one_upgrade():
    assert connection.vendor == "postgresql"
    site, first = stash_site(_products())
    second = UserFactory()
    SiteAdminFactory(site=site, user=second, email=second.email)
    listing, old, new = app(bitbucket_scopes=["write:jira-work"])  # consent: the click is the approval
    installation = install(site, listing, old)
    migration = services.site_migrate_product(
        site=site, host_product="bitbucket-server", host_version="4.0", actor=first
    )
    offer = MigrationOffer.objects.get(migration=migration)

    results = race(lambda actor: services.migration_offer_accept(offer=offer.pk, actor=actor), [first, second])

    assert [r[0] for r in results] == ["ok", "ok"], results  # the second click finds it done
    assert Upgrade.objects.filter(installation=installation).count() == 1
    request = UpgradeRequest.objects.get(installation=installation)
    offer.refresh_from_db()
    assert request.state == "approved" and offer.state == "accepted"
    assert request.decided_by == offer.accepted_by and offer.accepted_by in (first, second)
    assert Installation.objects.get(pk=installation.pk).version == new


def test_two_moves_of_one_site_at_once_make_one_move():
    site, first = stash_site(_products())
    second = UserFactory()
    SiteAdminFactory(site=site, user=second, email=second.email)
    listing, old, _ = app()
    install(site, listing, old)

    results = race(
        lambda actor: services.site_migrate_product(
            site=site, host_product="bitbucket-server", host_version="4.0", actor=actor
        ),
        [first, second],
    )

    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, ApplicationError) and error.field == "host_product"
    assert "already runs Bitbucket Server" in error.message
    assert ProductMigration.objects.count() == 1 and MigrationOffer.objects.count() == 1
