"""Two tenants side by side, for the authorization matrix and the API fuzzing.

Each tenant is a vendor with listings in every state a page or an operation
takes (draft, submitted, published with a rollout asking consent, an OCP beta
with a share link) and a customer with two sites (one moved to another
product, with offers). Private text carries a marker, so a response that
shows another tenant's data is caught whatever its status.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    ScopeFactory,
    SiteAdminFactory,
    SiteFactory,
    UserFactory,
    VersionFactory,
)
from upgrades import services as upgrade_services
from upgrades.emails import consent_link_for, consent_token
from upgrades.models import MigrationOffer, ProductMigration, Rollout, UpgradeRequest
from upgrades.share_links import beta_link_token
from versions.services import version_publish

STASH = [{"product": "stash", "min": "3.0", "max": "3.11"}]
BITBUCKET = [{"product": "bitbucket-server", "min": "4.0"}]


@dataclass
class Tenant:
    """One vendor and one customer, with everything the portal, the site pages and the API point at."""

    name: str
    vendor_user: object
    site_admin: object
    listing: object
    ocp_listing: object
    draft: object
    submitted: object
    tested: object
    published: object
    beta: object
    beta_link: object
    beta_token: str
    site: object
    moved_site: object
    installation: object
    request: object
    consent_token: str
    rollout: object
    migration: object
    offer: object
    vendor_token: str
    site_token: str
    private_vendor_text: str
    private_site_text: str
    ids: dict = field(default_factory=dict)


def make_catalogue() -> None:
    for name, level in [("read:jira-work", 1), ("write:jira-work", 2), ("delete:jira-work", 3)]:
        ScopeFactory(name=name, sensitivity=level)
    HostProductFactory(key="jira", name="Jira")
    HostProductFactory(key="stash", name="Stash")
    HostProductFactory(key="bitbucket-server", name="Bitbucket Server")


def make_tenant(name: str, capture) -> Tenant:
    """`capture` is pytest-django's django_capture_on_commit_callbacks (publishing starts the rollout on commit)."""
    vendor_secret = f"{name}-vendor-private-7f3a"
    site_secret = f"{name}-site-private-9c1e"
    membership = MembershipFactory(role="owner", vendor__name=f"{name.title()} Apps")
    vendor_user = membership.user
    listing = ListingFactory(vendor=membership.vendor, key=f"{name}-app", name=f"{name.title()} App")
    v1 = VersionFactory(listing=listing, number="1.0.0", scopes=["read:jira-work"], state="published")
    jira, stash, bitbucket = (HostProductFactory(key=k) for k in ("jira", "stash", "bitbucket-server"))

    admin_user = UserFactory(username=f"{name}-site-admin")
    site = SiteFactory(host_product=jira, name=f"{name.title()} Site {site_secret}")
    SiteAdminFactory(site=site, user=admin_user, email=admin_user.email)
    installation = upgrade_services.installation_create(site=site, listing=listing, version=v1)

    # A version that adds a scope: the manual listing's rollout asks the site admin for consent.
    with capture(execute=True):
        published = version_publish(
            version=VersionFactory(
                listing=listing,
                number="1.1.0",
                scopes=["read:jira-work", "write:jira-work"],
                state="approved",
                update_notes="Adds writing.",
            ),
            actor=vendor_user,
        )
    request = UpgradeRequest.objects.get(installation=installation, to_version=published)
    rollout = Rollout.objects.get(version=published)
    link = consent_link_for(request, admin_user.email)

    draft = VersionFactory(listing=listing, number="2.0.0", update_notes=f"Draft notes {vendor_secret}")
    submitted = VersionFactory(
        listing=listing,
        number="1.2.0",
        state="pending_approval",
        submitted_at=timezone.now(),
        update_notes=f"Submitted notes {vendor_secret}",
    )

    # A version under private testing: its member (the site admin) sees and installs it before it is published.
    tested = VersionFactory(
        listing=listing,
        number="1.3.0",
        state="pending_approval",
        submitted_at=timezone.now(),
        members=[admin_user.email],
        update_notes="Notes the testers may read.",
    )

    # An OCP listing with a published beta and a share link.
    ocp_listing = ListingFactory(vendor=membership.vendor, key=f"{name}-ocp", name=f"{name.title()} OCP", scheme="ocp")
    VersionFactory(listing=ocp_listing, number="1.0.0", scopes=["read:jira-work"], state="published")
    with capture(execute=True):
        beta = version_publish(
            version=VersionFactory(
                listing=ocp_listing,
                number="1.1.0-beta.1",
                channel="beta",
                scopes=["read:jira-work"],
                state="approved",
            ),
            actor=vendor_user,
        )
    beta_link = upgrade_services.beta_share_link_create(version=beta, actor=vendor_user)

    # A second site of the same customer, moved from Stash to Bitbucket Server: a migration with an offer.
    moved_site = SiteFactory(host_product=stash, host_version="3.10.2", name=f"{name.title()} Stash {site_secret}")
    SiteAdminFactory(site=moved_site, user=admin_user, email=admin_user.email)
    git_listing = ListingFactory(vendor=membership.vendor, key=f"{name}-git", name=f"{name.title()} Git")
    old = VersionFactory(listing=git_listing, number="1.2.3", compatibility=STASH, state="superseded")
    VersionFactory(listing=git_listing, number="1.3.0", compatibility=BITBUCKET, state="published")
    upgrade_services.installation_create(site=moved_site, listing=git_listing, version=old)
    with capture(execute=True):
        migration = upgrade_services.site_migrate_product(
            site=moved_site, host_product=bitbucket, host_version="8.9.0", actor=admin_user
        )
    migration = ProductMigration.objects.get(pk=migration.pk)
    offer = MigrationOffer.objects.filter(migration=migration).first()

    _, site_token = upgrade_services.site_token_create(site=site, name=f"{name} CI")
    vendor_token = Token.objects.create(user=vendor_user).key
    return Tenant(
        name=name,
        vendor_user=vendor_user,
        site_admin=admin_user,
        listing=listing,
        ocp_listing=ocp_listing,
        draft=draft,
        submitted=submitted,
        tested=tested,
        published=published,
        beta=beta,
        beta_link=beta_link,
        beta_token=beta_link_token(beta_link),
        site=site,
        moved_site=moved_site,
        installation=installation,
        request=request,
        consent_token=consent_token(link),
        rollout=rollout,
        migration=migration,
        offer=offer,
        vendor_token=vendor_token,
        site_token=site_token,
        private_vendor_text=vendor_secret,
        private_site_text=site_secret,
    )


def make_reviewer(username: str, group):
    """Marketplace staff in the Reviewers group (as the demo reviewer is set up)."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(group)
    return user
