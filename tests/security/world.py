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

from accounts.invitations import invitation_link_token, invitation_max_age, invitation_secret
from accounts.services import user_token_create
from marketplace.models import VendorInvitation
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
from upgrades.models import MigrationOffer, ProductMigration, Rollout, SiteInvitation, UpgradeRequest
from upgrades.services.webhooks import webhook_endpoint_create, webhook_endpoint_send_test
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
    # Onboarding, tokens and callbacks: the rows their pages and operations point at.
    vendor_membership: object = None
    vendor_invitation: object = None
    vendor_invitation_token: str = ""
    site_invitation: object = None
    site_invitation_token: str = ""
    site_token_row: object = None
    user_token: object = None
    webhook: object = None
    delivery: object = None
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

    site_token_row, site_token = upgrade_services.site_token_create(site=site, name=f"{name} CI")
    vendor_token = Token.objects.create(user=vendor_user).key
    user_token, _ = user_token_create(user=vendor_user, name=f"{name} deploys")
    webhook, _ = webhook_endpoint_create(
        listing=listing, actor=vendor_user, url=f"https://{name}.example.com/hooks", events=["version.published"]
    )
    delivery = webhook_endpoint_send_test(endpoint=webhook, actor=vendor_user)

    # Open invitations to addresses no role has: a link shows its invitation, nobody here may accept it.
    raw, digest = invitation_secret()
    vendor_invitation = VendorInvitation.objects.create(
        vendor=membership.vendor,
        email=f"newcomer@{name}.example.com",
        digest=digest,
        invited_by=vendor_user,
        expires_at=timezone.now() + invitation_max_age(),
    )
    vendor_invitation_token = invitation_link_token(raw, kind="vendor")
    raw, digest = invitation_secret()
    site_invitation = SiteInvitation.objects.create(
        site=site,
        email=f"new-admin@{name}.example.com",
        digest=digest,
        invited_by=admin_user,
        expires_at=timezone.now() + invitation_max_age(),
    )
    site_invitation_token = invitation_link_token(raw, kind="site")
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
        vendor_membership=membership,
        vendor_invitation=vendor_invitation,
        vendor_invitation_token=vendor_invitation_token,
        site_invitation=site_invitation,
        site_invitation_token=site_invitation_token,
        site_token_row=site_token_row,
        user_token=user_token,
        webhook=webhook,
        delivery=delivery,
    )


def make_reviewer(username: str, group):
    """Marketplace staff in the Reviewers group (as the demo reviewer is set up)."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(group)
    return user
