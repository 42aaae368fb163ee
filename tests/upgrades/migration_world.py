"""Building blocks for the product migration tests: Stash sites and apps with a Stash and a
Bitbucket Server version (the `products` fixture is in conftest.py)."""

from __future__ import annotations

from tests.factories import ListingFactory, SiteAdminFactory, SiteFactory, UserFactory, VersionFactory
from upgrades import services

STASH = [{"product": "stash", "min": "3.0", "max": "3.11"}]
BITBUCKET = [{"product": "bitbucket-server", "min": "4.0"}]


def stash_site(products, *, admin=None, **kwargs):
    site = SiteFactory(host_product=products[0], host_version="3.10.2", **kwargs)
    admin = admin or UserFactory()
    SiteAdminFactory(site=site, user=admin, email=admin.email)
    return site, admin


def app(
    *,
    stash="1.2.3",
    bitbucket="1.3.0",
    scheme="manual",
    stash_scopes=(),
    bitbucket_scopes=(),
    bitbucket_pricing="free",
    **listing_kw,
):
    """A listing with a released Stash version and (optionally) a published Bitbucket Server one."""
    listing = ListingFactory(scheme=scheme, **listing_kw)
    old = VersionFactory(
        listing=listing, number=stash, compatibility=STASH, scopes=list(stash_scopes), state="superseded"
    )
    new = None
    if bitbucket:
        new = VersionFactory(
            listing=listing,
            number=bitbucket,
            compatibility=BITBUCKET,
            scopes=list(bitbucket_scopes),
            pricing=bitbucket_pricing,
            state="published",
        )
    return listing, old, new


def install(site, listing, version):
    return services.installation_create(site=site, listing=listing, version=version)
