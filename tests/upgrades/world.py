"""The upgrades tests' world: a listing with a published version installed on sites
with their admins (the `world` fixture in conftest.py builds the default one)."""

from __future__ import annotations

from dataclasses import dataclass, field

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
from versions.services import version_publish


@dataclass
class World:
    vendor_user: object
    listing: object
    v1: object
    sites: list = field(default_factory=list)
    installations: list = field(default_factory=list)
    admins: list = field(default_factory=list)

    def publish(self, number: str, *, scopes=None, pricing="free", **kwargs):
        """An approved version published through the service (this starts the rollout on commit)."""
        version = VersionFactory(
            listing=self.listing,
            number=number,
            scopes=list(self.v1.scopes if scopes is None else scopes),
            pricing=pricing,
            state="approved",
            **kwargs,
        )
        return version_publish(version=version, actor=self.vendor_user)


def make_world(
    *, scheme="manual", sites=3, admins_per_site=1, scopes=("read:jira-work",), pricing="free", number="1.0.0"
):
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, scheme=scheme, pricing=pricing)
    v1 = VersionFactory(listing=listing, number=number, scopes=list(scopes), pricing=pricing, state="published")
    product = HostProductFactory(key="jira", name="Jira")
    world = World(vendor_user=membership.user, listing=listing, v1=v1)
    for _ in range(sites):
        site = SiteFactory(host_product=product)
        world.sites.append(site)
        for _ in range(admins_per_site):
            user = UserFactory()
            world.admins.append(SiteAdminFactory(site=site, user=user, email=user.email))
        world.installations.append(services.installation_create(site=site, listing=listing, version=v1))
    return world


def publish(world, number, capture, **kwargs):
    with capture(execute=True):
        version = world.publish(number, **kwargs)
    return version
