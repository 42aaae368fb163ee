"""Sites and installations: what may be installed, and maintenance windows."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError
from tests.factories import SiteFactory, VersionFactory
from upgrades import services

pytestmark = pytest.mark.django_db


def test_installation_create_refuses_a_foreign_or_unreleased_version(world):
    other = VersionFactory(number="3.0.0", state="published")
    with pytest.raises(ApplicationError, match="is not a version of"):
        services.installation_create(site=world.sites[0], listing=world.listing, version=other)
    draft = VersionFactory(listing=world.listing, number="3.0.0", state="draft")
    with pytest.raises(ApplicationError, match="only published versions"):
        services.installation_create(site=SiteFactory(), listing=world.listing, version=draft)


def test_site_validates_its_maintenance_windows(world):
    from django.core.exceptions import ValidationError

    site = world.sites[0]
    site.maintenance_windows = [{"weekday": 9, "start": "01:00", "end": "02:00"}]
    with pytest.raises(ValidationError) as exc:
        site.full_clean()
    assert "weekday must be 0 (Monday) to 6 (Sunday)" in str(exc.value.message_dict["maintenance_windows"])
    with pytest.raises(ApplicationError):
        services.site_set_maintenance_windows(site=site, actor=world.admins[0].user, windows_="sunday")
    services.site_set_maintenance_windows(
        site=site, actor=world.admins[0].user, windows_=[{"weekday": 6, "start": "01:00", "end": "05:00"}]
    )
    site.refresh_from_db()
    assert site.maintenance_windows == [{"weekday": 6, "start": "01:00", "end": "05:00"}]


# --- OCP -dev stays on the vendor's sandbox on every path (issue 10, item 10) ---------------------


def test_ocp_dev_stays_on_the_vendors_sandbox_on_every_path(django_capture_on_commit_callbacks):
    from core.errors import NotFound, TransitionNotAllowed
    from tests.factories import ListingFactory, MembershipFactory, SiteAdminFactory, UserFactory
    from upgrades.models import Installation, Upgrade, UpgradeRequest
    from upgrades.selectors import site_updates
    from versions import services as version_services

    owner = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=owner.vendor, scheme="ocp")
    admin = UserFactory()
    sandbox = SiteFactory(name="Vendor sandbox", sandbox_vendor=owner.vendor)
    customer = SiteFactory(name="Customer")
    for site in (sandbox, customer):
        SiteAdminFactory(site=site, user=admin, email=admin.email)
    ga = VersionFactory(listing=listing, number="1.0.0", state="published")
    on_sandbox = services.installation_create(site=sandbox, listing=listing, version=ga)
    on_customer = services.installation_create(site=customer, listing=listing, version=ga)
    with django_capture_on_commit_callbacks(execute=True):  # the rollout runs as the worker would
        dev = version_services.version_create(
            listing=listing, actor=owner.user, number="1.1.0-dev.1", update_notes="Work in progress."
        )
        dev = version_services.version_submit(version=dev, actor=owner.user)
    assert dev.state == "published" and dev.channel == "dev"

    # The rollout moved the sandbox only.
    assert Installation.objects.get(pk=on_sandbox.pk).version == dev
    assert Installation.objects.get(pk=on_customer.pk).version == ga
    assert not Upgrade.objects.filter(installation=on_customer).exists()
    assert not UpgradeRequest.objects.filter(installation=on_customer).exists()
    # The update check offers nothing to the customer, and the manual Upgrade has nothing to install.
    (item,) = site_updates(site=customer)["items"]
    assert item["update"] is None
    with pytest.raises(ApplicationError, match="newest version this site can run"):
        services.installation_upgrade(site_id=customer.pk, installation_id=on_customer.pk, actor=admin)
    # No share link can carry it.
    with pytest.raises(ApplicationError, match="share links"):
        services.beta_share_link_create(version=dev, actor=owner.user)
    # Nor a direct install on another site (demo data, scripts).
    fresh = SiteFactory(name="Another customer")
    with pytest.raises(ApplicationError, match="sandbox") as exc:
        services.installation_create(site=fresh, listing=listing, version=dev)
    assert exc.value.field == "site" and not Installation.objects.filter(site=fresh).exists()
    # Nor the private testing channel (dev is published, and members are only for versions under review).
    dev_members = VersionFactory(
        listing=listing, number="1.2.0-dev.1", channel="dev", state="pending_approval", members=[admin.email]
    )
    with pytest.raises(ApplicationError, match="sandbox"):
        services.member_install(version_id=dev_members.pk, site=customer.pk, actor=admin)
    with pytest.raises((NotFound, TransitionNotAllowed)):
        services.member_install(version_id=dev.pk, site=customer.pk, actor=admin)
    assert Installation.objects.get(pk=on_customer.pk).version == ga
