"""A world for the beta share link tests: an OCP listing live at 1.0.0 on some sites, a
published 1.1.0-beta.1, and site admins (importable by the integration and browser tests)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import SiteAdminFactory, SiteFactory, UserFactory, VersionFactory
from tests.upgrades.world import World, make_world
from upgrades import services
from versions.models import Version
from versions.services import version_publish


@dataclass
class BetaWorld:
    world: World
    beta: Version
    admin: object  # administers `old_site` (on 1.0.0) and `new_site` (listing not installed)
    old_site: object
    new_site: object

    @property
    def listing(self):
        return self.world.listing

    @property
    def vendor_user(self):
        return self.world.vendor_user

    def link(self, **kwargs):
        return services.beta_share_link_create(version=self.beta, actor=self.vendor_user, **kwargs)


def publish_beta(world: World, number: str, *, scopes=("read:jira-work",), pricing="free", **kwargs) -> Version:
    version = VersionFactory(
        listing=world.listing,
        number=number,
        channel=number.split("-")[1].split(".")[0] if "-" in number else "release",
        scopes=list(scopes),
        pricing=pricing,
        state="approved",
        **kwargs,
    )
    return version_publish(version=version, actor=world.vendor_user)


def make_beta_world(*, beta_scopes=("read:jira-work", "write:jira-work"), beta_pricing="free") -> BetaWorld:
    world = make_world(scheme="ocp", sites=1)
    beta = publish_beta(world, "1.1.0-beta.1", scopes=beta_scopes, pricing=beta_pricing)
    admin = world.admins[0].user
    old_site = world.sites[0]
    new_site = SiteFactory(host_product=old_site.host_product, name="Fresh Site")
    SiteAdminFactory(site=new_site, user=admin, email=admin.email)
    return BetaWorld(world=world, beta=beta, admin=admin, old_site=old_site, new_site=new_site)


def outsider_site():
    """A site with its own admin (someone else's customer)."""
    other = UserFactory()
    site = SiteFactory(name="Someone Else's Site")
    SiteAdminFactory(site=site, user=other, email=other.email)
    return site
