"""Private testing (issue 10, item 5): a version's members see and install it on the sites they
administer before it is published; nobody else can. Also the -dev rule on this path (item 10)."""

import pytest

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from core.models import AuditEvent
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    SiteAdminFactory,
    SiteFactory,
    UserFactory,
    VersionFactory,
)
from upgrades import services
from upgrades.models import Installation, Upgrade
from upgrades.selectors.testing import member_sites_for_user, versions_for_member
from versions import services as version_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def tester():
    """A site admin whose address the vendor listed as a member."""
    user = UserFactory(username="tess", email="Tess@Example.com")
    site = SiteFactory(host_product=HostProductFactory(key="jira", name="Jira"))
    SiteAdminFactory(site=site, user=user, email=user.email)
    user.site = site
    return user


@pytest.fixture
def under_review(tester):
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, name="Acme Timer")
    return VersionFactory(
        listing=listing, number="2.0.0", state="in_review", scopes=["read:jira-work"], members=["tess@example.com"]
    )


def test_a_member_sees_and_installs_the_version_before_it_is_published(tester, under_review):
    assert versions_for_member(user=tester) == [under_review]
    rows = member_sites_for_user(user=tester, version=under_review)
    assert [(r["site"], r["action"]) for r in rows] == [(tester.site, "installs 2.0.0")]

    installation = services.member_install(version_id=under_review.pk, site=tester.site.pk, actor=tester)
    assert (installation.site, installation.version, installation.granted_scopes) == (
        tester.site,
        under_review,
        ["read:jira-work"],
    )
    event = AuditEvent.objects.get(action="installation.install", object_id=installation.pk)
    assert event.actor == tester and event.details["member_test"] is True
    # Twice: installed once, the second press says so.
    with pytest.raises(TransitionNotAllowed, match="already runs"):
        services.member_install(version_id=under_review.pk, site=tester.site.pk, actor=tester)
    assert Installation.objects.count() == 1


def test_nobody_else_sees_or_installs_it(tester, under_review):
    stranger = UserFactory(email="rtess@example.com")  # contains the member's address, is not it
    SiteAdminFactory(site=SiteFactory(), user=stranger, email=stranger.email)
    staff = UserFactory(is_staff=True, is_superuser=True)
    vendor = under_review.listing.vendor.users.first()
    for user in (stranger, staff, vendor):
        assert versions_for_member(user=user) == []
        with pytest.raises(NotFound):
            services.member_version_check(version_id=under_review.pk, actor=user)
    with pytest.raises(NotFound):
        services.member_install(version_id=under_review.pk, site=stranger.administered_sites.get().pk, actor=stranger)
    # A member on a site they don't administer: the site does not exist for them.
    with pytest.raises(NotFound) as exc:
        services.member_install(version_id=under_review.pk, site=stranger.administered_sites.get().pk, actor=tester)
    assert exc.value.field == "site"
    assert not Installation.objects.exists()


@pytest.mark.parametrize("state", ["draft", "rejected", "canceled", "published"])
def test_only_a_submitted_version_is_open_for_testing(tester, under_review, state):
    version = VersionFactory(listing=under_review.listing, number="3.0.0", state=state, members=["tess@example.com"])
    assert version not in versions_for_member(user=tester)
    with pytest.raises(TransitionNotAllowed):
        services.member_install(version_id=version.pk, site=tester.site.pk, actor=tester)
    assert not Installation.objects.exists()


def test_a_withdrawn_version_is_closed_to_its_members(tester, under_review):
    version_services.version_withdraw(version=under_review, actor=under_review.listing.vendor.users.first())
    assert versions_for_member(user=tester) == []
    with pytest.raises(TransitionNotAllowed, match="not open for testing"):
        services.member_install(version_id=under_review.pk, site=tester.site.pk, actor=tester)


def test_a_member_moves_the_sites_older_version_to_the_one_under_test(tester, under_review):
    v1 = VersionFactory(listing=under_review.listing, number="1.0.0", state="published", scopes=[])
    services.installation_create(site=tester.site, listing=under_review.listing, version=v1)
    assert member_sites_for_user(user=tester, version=under_review)[0]["action"] == "upgrades 1.0.0 to 2.0.0"
    installation = services.member_install(version_id=under_review.pk, site=tester.site.pk, actor=tester)
    assert installation.version == under_review and installation.granted_scopes == ["read:jira-work"]
    upgrade = Upgrade.objects.get(installation=installation)
    assert upgrade.state == "applied" and upgrade.approved_by == tester and "testing it" in upgrade.outcome
    # The new scope needed consent: pressing Install was it, recorded as an approved request.
    assert upgrade.request.state == "approved" and upgrade.request.decided_by == tester


def test_a_private_listing_stays_closed_to_sites_it_does_not_allow(tester, under_review):
    listing = under_review.listing
    listing.visibility = "private"
    listing.save()
    with pytest.raises(ApplicationError, match="private"):
        services.member_install(version_id=under_review.pk, site=tester.site.pk, actor=tester)
    listing.allowed_sites.add(tester.site)
    assert services.member_install(version_id=under_review.pk, site=tester.site.pk, actor=tester).pk


def test_an_ocp_dev_version_under_review_reaches_only_the_vendors_sandbox(tester):
    """A free -> paid -dev version waits for review; its members still can't put it outside the sandbox."""
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, scheme="ocp", pricing="paid")
    dev = VersionFactory(
        listing=listing,
        number="1.1.0-dev.1",
        channel="dev",
        state="pending_approval",
        pricing="paid",
        members=["tess@example.com"],
    )
    assert "sandbox" in member_sites_for_user(user=tester, version=dev)[0]["action"]
    with pytest.raises(ApplicationError, match="sandbox") as exc:
        services.member_install(version_id=dev.pk, site=tester.site.pk, actor=tester)
    assert exc.value.field == "site" and not Installation.objects.exists()
    tester.site.sandbox_vendor = membership.vendor
    tester.site.save()
    assert services.member_install(version_id=dev.pk, site=tester.site.pk, actor=tester).version == dev


def test_a_version_on_test_sites_keeps_its_scopes_after_a_withdrawal(tester, under_review):
    """Withdrawn and edited, it would otherwise be published with more scopes than the testers granted."""
    services.member_install(version_id=under_review.pk, site=tester.site.pk, actor=tester)
    vendor = under_review.listing.vendor.users.first()
    version_services.version_withdraw(version=under_review, actor=vendor, comment="one more scope")
    with pytest.raises(ApplicationError, match="runs on 1 test site") as exc:
        version_services.version_update(
            version=under_review, actor=vendor, scopes=["read:jira-work", "write:jira-work"]
        )
    assert exc.value.field == "scopes"
    version_services.version_update(version=under_review, actor=vendor, update_notes="Clearer notes.")
    under_review.refresh_from_db()
    assert under_review.scopes == ["read:jira-work"] and under_review.update_notes == "Clearer notes."
