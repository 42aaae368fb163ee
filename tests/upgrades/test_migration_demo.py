"""The demo `make run` seeds shows a product migration: one offer and one why-not, and seeding twice adds nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from demo.sites import MIGRATION_SITE, SUFFIXED_LISTING
from marketplace.models import Listing
from upgrades import services
from upgrades.models import Installation, Site
from versions.models import Version

pytestmark = pytest.mark.django_db


def test_seeded_stash_sites_move_to_bitbucket_with_an_offer_and_a_why_not():
    call_command("seed_demo")
    counts = (Site.objects.count(), Listing.objects.count(), Version.objects.count(), Installation.objects.count())
    call_command("seed_demo")
    assert (
        Site.objects.count(),
        Listing.objects.count(),
        Version.objects.count(),
        Installation.objects.count(),
    ) == counts

    siteadmin = get_user_model().objects.get(username="siteadmin")
    austin = Site.objects.get(name=MIGRATION_SITE[0])
    assert austin.host_product.key == "stash"
    migration = services.site_migrate_product(
        site=austin, host_product="bitbucket-server", host_version="4.0", actor=siteadmin
    )
    offers = {o.installation.listing.key: o for o in migration.offers.select_related("installation__listing")}
    assert offers["globex-stash-hooks"].offered_version.number == "1.3.0"
    assert offers[SUFFIXED_LISTING].reason.startswith("2.0.0-bitbucket sorts below the installed 2.0.0")

    sydney = Site.objects.get(name="Legacy Stash (Sydney)")
    moved = services.site_migrate_product(
        site=sydney, host_product="bitbucket-server", host_version="4.0", actor=siteadmin
    )
    [offer] = moved.offers.all()
    services.migration_offer_accept(offer=offer, actor=siteadmin)
    installation = Installation.objects.get(site=sydney)
    assert installation.version.number == "1.3.0" and installation.state == "active"
