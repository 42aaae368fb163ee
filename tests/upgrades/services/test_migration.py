"""Moving a site to another host product, through the services: switching apps off, superseding
open work, the offers (and why-nots), the one-click accept with consent, idempotency, permissions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ApplicationError, NotFound, PermissionDenied, TransitionNotAllowed
from tests.factories import ListingFactory, UserFactory, VendorFactory, VersionFactory
from tests.upgrades.migration_world import BITBUCKET, STASH, app, install, stash_site
from upgrades import services
from upgrades.models import (
    Installation,
    MigrationOffer,
    ProductMigration,
    Site,
    Upgrade,
    UpgradeRequest,
)

pytestmark = pytest.mark.django_db


def migrate(site, admin, product="bitbucket-server", version="4.0"):
    return services.site_migrate_product(site=site, host_product=product, host_version=version, actor=admin)


def offer_for(migration, installation):
    return MigrationOffer.objects.get(migration=migration, installation=installation)


# --- moving -----------------------------------------------------------------------------------


def test_move_switches_apps_off_records_it_and_offers_the_bitbucket_version(products, catalogue):
    site, admin = stash_site(products)
    listing, old, new = app()
    installation = install(site, listing, old)

    migration = migrate(site, admin)

    site.refresh_from_db()
    assert (site.host_product.key, site.host_version) == ("bitbucket-server", "4.0")
    assert (migration.from_product.key, migration.from_version) == ("stash", "3.10.2")
    assert (migration.to_product.key, migration.to_version, migration.migrated_by) == ("bitbucket-server", "4.0", admin)
    assert migration.deactivated == 1
    installation.refresh_from_db()
    assert installation.state == "deactivated" and installation.version == old  # keeps what it had
    offer = offer_for(migration, installation)
    assert (offer.state, offer.code, offer.offered_version, offer.installed_version) == ("offered", "offered", new, old)
    assert offer.reason == "" and offer.consent_reasons == []


def test_move_supersedes_open_requests_and_scheduled_upgrades(products, catalogue):
    site, admin = stash_site(products)
    a, a_old, _ = app()
    b, b_old, _ = app(stash="2.0.0", bitbucket="2.1.0")
    a_inst, b_inst = install(site, a, a_old), install(site, b, b_old)
    a_next = VersionFactory(listing=a, number="1.2.4", compatibility=STASH, state="superseded")
    b_next = VersionFactory(listing=b, number="2.0.1", compatibility=STASH, state="superseded")
    request = UpgradeRequest.objects.create(installation=a_inst, from_version=a_old, to_version=a_next, reasons=[])
    Installation.objects.filter(pk=a_inst.pk).update(state="pending_consent")
    upgrade = Upgrade.objects.create(installation=b_inst, from_version=b_old, to_version=b_next, due_at=timezone.now())
    other_site, _ = stash_site(products)
    other = install(other_site, a, a_old)
    untouched = UpgradeRequest.objects.create(installation=other, from_version=a_old, to_version=a_next, reasons=[])

    migration = migrate(site, admin)

    assert (migration.deactivated, migration.requests_superseded, migration.upgrades_superseded) == (2, 1, 1)
    request.refresh_from_db()
    upgrade.refresh_from_db()
    untouched.refresh_from_db()
    assert request.state == "superseded" and upgrade.state == "superseded"
    assert "moved to Bitbucket Server" in upgrade.outcome
    assert untouched.state == "pending"
    assert set(Installation.objects.filter(site=site).values_list("state", flat=True)) == {"deactivated"}
    assert Installation.objects.get(pk=other.pk).state == "active"


def test_a_pre_release_below_the_installed_release_is_not_offered_and_says_why(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app(stash="1.2.3", bitbucket=None)
    VersionFactory(listing=listing, number="1.2.3-bitbucket", compatibility=BITBUCKET, state="published")
    installation = install(site, listing, old)

    offer = offer_for(migrate(site, admin), installation)

    assert (offer.state, offer.code, offer.offered_version) == ("unavailable", "not_greater", None)
    # 1.2.3-bitbucket was made after 1.2.3, so it has the higher build: the reason says so too.
    assert offer.reason == (
        "1.2.3-bitbucket sorts below the installed 1.2.3: a pre-release is lower than its release; "
        "ask the vendor for 1.2.4-bitbucket or higher; build numbers disagree with version order: "
        "1.2.3-bitbucket has the higher build (2 > 1) but the lower version, so tools that go by build number "
        "would offer it as newer"
    )


def test_an_offer_whose_build_number_is_lower_than_the_installed_one_says_so(products, catalogue):
    # The vendor published 1.2.3 for Bitbucket Server first, then 1.2.3-stash: a higher build, a lower version.
    site, admin = stash_site(products)
    listing = ListingFactory()
    bitbucket = VersionFactory(listing=listing, number="1.2.3", compatibility=BITBUCKET, state="published")
    stash = VersionFactory(listing=listing, number="1.2.3-stash", compatibility=STASH, state="superseded")
    installation = install(site, listing, stash)

    offer = offer_for(migrate(site, admin), installation)

    assert (offer.state, offer.offered_version) == ("offered", bitbucket)
    assert offer.reason == (
        "build numbers disagree with version order: 1.2.3 is the higher version but has the lower build "
        "(1 < 2); the portal goes by version order, tools that go by build number would not offer it"
    )


def test_no_version_for_the_new_product(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app(bitbucket=None)
    installation = install(site, listing, old)
    offer = offer_for(migrate(site, admin), installation)
    assert (offer.state, offer.code) == ("unavailable", "incompatible")
    assert offer.reason == "no published version supports Bitbucket Server 4.0"


def test_unreleased_versions_are_never_offered(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app(bitbucket=None)
    VersionFactory(listing=listing, number="1.3.0", compatibility=BITBUCKET, state="approved")
    installation = install(site, listing, old)
    assert offer_for(migrate(site, admin), installation).code == "incompatible"


def test_private_listing_reaches_only_allowed_sites(products, catalogue):
    allowed_site, admin = stash_site(products)
    other_site, _ = stash_site(products, admin=admin)
    listing, old, new = app(visibility="private")
    listing.allowed_sites.add(allowed_site)
    allowed_inst, other_inst = install(allowed_site, listing, old), install(other_site, listing, old)

    assert offer_for(migrate(allowed_site, admin), allowed_inst).offered_version == new
    refused = offer_for(migrate(other_site, admin), other_inst)
    assert (refused.state, refused.code) == ("unavailable", "not_available")
    assert refused.reason == (
        "1.3.0 supports Bitbucket Server 4.0, but it can't reach this site: "
        "the listing is private and this site is not among its allowed sites"
    )


def test_ocp_dev_versions_reach_only_the_vendors_sandbox(products, catalogue):
    vendor = VendorFactory()
    sandbox, admin = stash_site(products, sandbox_vendor=vendor)
    customer, _ = stash_site(products, admin=admin)
    listing, old, _ = app(scheme="ocp", bitbucket=None, vendor=vendor)
    dev = VersionFactory(
        listing=listing, number="1.3.0-dev.1", channel="dev", compatibility=BITBUCKET, state="published"
    )
    sandbox_inst, customer_inst = install(sandbox, listing, old), install(customer, listing, old)

    assert offer_for(migrate(sandbox, admin), sandbox_inst).offered_version == dev
    refused = offer_for(migrate(customer, admin), customer_inst)
    assert refused.code == "not_available"
    assert refused.reason.endswith("-dev versions reach only the vendor's own sandbox site")


def test_moving_again_supersedes_the_open_offers_of_the_earlier_move(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app()
    installation = install(site, listing, old)
    first = migrate(site, admin)
    second = migrate(site, admin, product="stash", version="3.11")  # changed their mind
    assert offer_for(first, installation).state == "superseded"
    again = offer_for(second, installation)
    assert again.code == "not_greater" and "already the newest version that supports Stash 3.11" in again.reason


# --- bad input and permissions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "version", "field", "words"),
    [
        ("bamboo", "4.0", "host_product", "Host product 'bamboo' is not known to the marketplace"),
        ("", "4.0", "host_product", "choose one of bitbucket-server, stash"),
        ("stash", "3.11", "host_product", "already runs Stash"),
        ("bitbucket-server", "4.x", "host_version", "Host product version '4.x' is invalid"),
        ("bitbucket-server", "", "host_version", "dotted numbers such as 4.0"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(products, catalogue, product, version, field, words):
    site, admin = stash_site(products)
    listing, old, _ = app()
    installation = install(site, listing, old)
    with pytest.raises(ApplicationError) as exc:
        migrate(site, admin, product=product, version=version)
    assert exc.value.field == field and words in exc.value.message
    site.refresh_from_db()
    assert site.host_product.key == "stash" and site.host_version == "3.10.2"
    assert Installation.objects.get(pk=installation.pk).state == "active"
    assert not ProductMigration.objects.exists() and not MigrationOffer.objects.exists()


def test_another_sites_admin_gets_not_found_and_nothing_changes(products, catalogue):
    site, admin = stash_site(products)
    _, stranger = stash_site(products)
    listing, old, _ = app()
    installation = install(site, listing, old)
    with pytest.raises(NotFound):
        migrate(site, stranger)
    assert Site.objects.get(pk=site.pk).host_product.key == "stash"
    assert Installation.objects.get(pk=installation.pk).state == "active"
    assert not ProductMigration.objects.exists()

    offer = offer_for(migrate(site, admin), installation)
    with pytest.raises(NotFound):
        services.migration_offer_accept(offer=offer, actor=stranger)
    offer.refresh_from_db()
    assert offer.state == "offered" and Installation.objects.get(pk=installation.pk).state == "deactivated"
    assert not Upgrade.objects.exists()


def test_staff_may_not_move_a_site_they_do_not_administer(products, catalogue):
    site, _ = stash_site(products)
    staff = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        migrate(site, staff)
    site.refresh_from_db()
    assert site.host_product.key == "stash"
    assert not ProductMigration.objects.filter(site=site).exists()


# --- one click --------------------------------------------------------------------------------


def test_accept_installs_the_offered_version_and_switches_the_app_on(products, catalogue, mailoutbox):
    site, admin = stash_site(products)
    listing, old, new = app()
    installation = install(site, listing, old)
    offer = offer_for(migrate(site, admin), installation)

    accepted = services.migration_offer_accept(offer=offer, actor=admin)

    installation.refresh_from_db()
    assert (installation.version, installation.state) == (new, "active")
    assert accepted.state == "accepted" and accepted.accepted_by == admin and accepted.accepted_at
    upgrade = accepted.upgrade
    assert (upgrade.state, upgrade.from_version, upgrade.to_version, upgrade.approved_by) == (
        "applied",
        old,
        new,
        admin,
    )
    assert upgrade.request is None  # nothing to consent to
    assert not UpgradeRequest.objects.exists()


def test_accept_twice_changes_nothing_the_second_time(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app(bitbucket_scopes=["write:jira-work"])
    installation = install(site, listing, old)
    offer = offer_for(migrate(site, admin), installation)
    first = services.migration_offer_accept(offer=offer, actor=admin)
    installation.refresh_from_db()
    before = (
        Upgrade.objects.count(),
        UpgradeRequest.objects.count(),
        installation.updated_at,
        first.accepted_at,
        first.upgrade_id,
    )
    second = services.migration_offer_accept(offer=offer.pk, actor=admin)
    installation.refresh_from_db()
    assert (
        Upgrade.objects.count(),
        UpgradeRequest.objects.count(),
        installation.updated_at,
        second.accepted_at,
        second.upgrade_id,
    ) == before
    assert second.accepted_by == admin


def test_accepting_an_upgrade_that_needs_consent_records_the_admins_approval(products, catalogue):
    site, admin = stash_site(products)
    listing, old, new = app(stash_scopes=["read:jira-work"], bitbucket_scopes=["read:jira-work", "write:jira-work"])
    installation = install(site, listing, old)
    offer = offer_for(migrate(site, admin), installation)
    assert [r["code"] for r in offer.consent_reasons] == ["scope_added"]

    accepted = services.migration_offer_accept(offer=offer, actor=admin)

    request = UpgradeRequest.objects.get(installation=installation)
    assert (request.state, request.decided_by, request.from_version, request.to_version) == (
        "approved",
        admin,
        old,
        new,
    )
    assert request.reasons[0]["scope"] == "write:jira-work" and request.decided_at is not None
    assert accepted.upgrade.request == request and accepted.upgrade.approved_by == admin
    installation.refresh_from_db()
    assert installation.state == "active" and installation.version == new
    assert installation.granted_scopes == ["read:jira-work", "write:jira-work"]


def test_free_to_paid_is_consented_by_the_click(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app(bitbucket_pricing="paid")
    installation = install(site, listing, old)
    offer = offer_for(migrate(site, admin), installation)
    assert [r["code"] for r in offer.consent_reasons] == ["free_to_paid"]
    services.migration_offer_accept(offer=offer, actor=admin)
    assert UpgradeRequest.objects.get(installation=installation).state == "approved"
    assert Installation.objects.get(pk=installation.pk).license == "paid"


def test_ocp_major_upgrade_is_consented_by_the_click(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app(scheme="ocp", stash="1.4.0", bitbucket="2.0.0")
    installation = install(site, listing, old)
    offer = offer_for(migrate(site, admin), installation)
    assert [r["code"] for r in offer.consent_reasons] == ["major_upgrade"]
    accepted = services.migration_offer_accept(offer=offer, actor=admin)
    assert UpgradeRequest.objects.get(installation=installation).decided_by == admin
    assert accepted.upgrade.state == "applied" and accepted.upgrade.hooks == []  # no hook URLs: none called


def test_an_offer_without_upgrade_or_replaced_cannot_be_accepted(products, catalogue):
    site, admin = stash_site(products)
    listing, old, _ = app(bitbucket=None)
    installation = install(site, listing, old)
    unavailable = offer_for(migrate(site, admin), installation)
    with pytest.raises(ApplicationError) as exc:
        services.migration_offer_accept(offer=unavailable, actor=admin)
    assert exc.value.field == "offer" and "no published version supports Bitbucket Server 4.0" in exc.value.message

    site2, admin2 = stash_site(products)
    listing2, old2, _ = app()
    installation2 = install(site2, listing2, old2)
    first = offer_for(migrate(site2, admin2), installation2)
    migrate(site2, admin2, product="stash", version="3.11")
    with pytest.raises(TransitionNotAllowed):
        services.migration_offer_accept(offer=first, actor=admin2)
    assert Installation.objects.get(pk=installation2.pk).state == "deactivated"


def test_a_halted_rollout_blocks_the_one_click_upgrade(products, catalogue):
    from upgrades.models import Rollout

    site, admin = stash_site(products)
    listing, old, new = app()
    installation = install(site, listing, old)
    offer = offer_for(migrate(site, admin), installation)
    rollout = Rollout.objects.create(version=new, listing=listing)
    Rollout.objects.filter(pk=rollout.pk).update(state="halted")
    with pytest.raises(TransitionNotAllowed) as exc:
        services.migration_offer_accept(offer=offer, actor=admin)
    assert "paused the rollout of 1.3.0" in exc.value.message
    assert Installation.objects.get(pk=installation.pk).state == "deactivated"


# --- cost -------------------------------------------------------------------------------------


def _site_with_apps(products, count):
    site, admin = stash_site(products)
    for n in range(count):
        kind = n % 4
        listing, old, _ = app(
            scheme="ocp" if kind == 3 else "manual",
            visibility="private" if kind == 2 else "public",
            bitbucket=None if kind == 1 else "1.3.0",
            bitbucket_scopes=["write:jira-work"] if kind == 0 else (),
        )
        if kind == 1:
            VersionFactory(listing=listing, number="1.2.3-bitbucket", compatibility=BITBUCKET, state="published")
        installation = install(site, listing, old)
        if n % 3 == 0:
            nxt = VersionFactory(listing=listing, number="1.2.4", compatibility=STASH, state="superseded")
            UpgradeRequest.objects.create(installation=installation, from_version=old, to_version=nxt, reasons=[])
    return site, admin


def test_move_costs_the_same_few_queries_for_2_or_30_apps(products, catalogue, django_assert_max_num_queries):
    from marketplace.selectors import scope_catalogue

    scope_catalogue()  # cached, as it is in production
    counts = {}
    for count in (2, 30):
        site, admin = _site_with_apps(products, count)
        # 19: the move's own statements plus its audit trail (ids of open work read under lock,
        # the old product's key, one bulk insert of every audit row), the same for 2 or 30 apps.
        # +1: the listings' host products (an app that does not name the new product is not offered).
        with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as ctx:
            migrate(site, admin)
        counts[count] = len(ctx.captured_queries)
        assert MigrationOffer.objects.filter(installation__site=site).count() == count
        assert set(MigrationOffer.objects.filter(installation__site=site).values_list("code", flat=True)) >= {
            "offered",
            "not_greater",
        }
    assert counts[2] == counts[30]
