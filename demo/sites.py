"""Demo data for `make run` (after demo.catalogue): customer sites, their admins,
installations on older versions, and the rollouts that follow, one of them waiting
for the site admins' consent (its e-mails land in var/mail/). Idempotent."""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from marketplace.models import HostProduct, Listing, Vendor
from upgrades import emails, services
from upgrades.models import Installation, Rollout, Site, SiteAdmin, UpgradeRequest
from versions.models import Version
from versions.services import version_create, version_submit

User = get_user_model()

SITES = [
    # name, product, product version, time zone, maintenance windows, sandbox of vendor (slug)
    (
        "Acme Customer Jira (Berlin)",
        "jira",
        "9.4.0",
        "Europe/Berlin",
        [{"weekday": 6, "start": "01:00", "end": "05:00"}],
        None,
    ),
    ("Northwind Jira (New York)", "jira", "9.12.0", "America/New_York", [], None),
    (
        "Contoso Confluence (Tokyo)",
        "confluence",
        "8.5.0",
        "Asia/Tokyo",
        [{"weekday": 5, "start": "22:00", "end": "02:00"}],
        None,
    ),
    ("Fabrikam Wiki (London)", "confluence", "8.9.0", "Europe/London", [], None),
    ("Legacy Stash (Sydney)", "stash", "3.10.2", "Australia/Sydney", [], None),
    ("Acme Sandbox", "jira", "10.1.0", "UTC", [], "acme-apps"),
]
# site name: extra admins by e-mail only (no portal account)
EMAIL_ADMINS = {
    "Northwind Jira (New York)": ["it-ops@northwind.example.com"],
    "Fabrikam Wiki (London)": ["wiki-admins@fabrikam.example.com"],
}
# listing key, version number, site names
INSTALLS = [
    ("acme-timesheets", "1.0.0", ["Acme Customer Jira (Berlin)", "Northwind Jira (New York)", "Acme Sandbox"]),
    ("acme-reports", "2.0.0", ["Acme Customer Jira (Berlin)"]),
    ("acme-ocp-sync", "1.0.0", ["Acme Customer Jira (Berlin)", "Acme Sandbox"]),
    ("acme-forge-board", "1.0.0", ["Northwind Jira (New York)"]),
    ("acme-connect-sync", "1.0.0", ["Acme Customer Jira (Berlin)", "Northwind Jira (New York)"]),
    ("globex-diagrams", "3.0.0", ["Contoso Confluence (Tokyo)", "Fabrikam Wiki (London)"]),
    ("globex-stash-hooks", "1.2.3", ["Legacy Stash (Sydney)"]),
]
# A descriptor poll that finds a new scope: the connect version it makes is published at once
# (no review for system versions) and its rollout waits for the site admins' consent. The
# approved globex-diagrams 3.1.0 (new scope too) is left for the demo vendor to publish.
CONSENT_DEMO_LISTING = "acme-connect-sync"
CONSENT_DEMO_DESCRIPTOR = {
    "key": "acme-connect-sync",
    "name": "Acme Connect Sync",
    "baseUrl": "https://acme.example.com/sync",
    "apiVersion": 1,
    "scopes": ["READ", "WRITE"],
    "enableLicensing": False,
    "modules": {},
}


def _run_rollout(version: Version) -> Rollout | None:
    """Process a rollout right away (the worker would do the same, later): chunks, e-mails, due upgrades."""
    rollout = services.rollout_start(version_id=version.pk)
    if rollout is None:
        return None
    while services.rollout_process_chunk(rollout_id=rollout.pk):
        pass
    for pk in UpgradeRequest.objects.filter(rollout=rollout, state="pending").values_list("pk", flat=True):
        emails.send_request_emails(pk)
    services.upgrades_apply_due()
    return rollout


def seed(stdout: TextIO) -> bool:
    """Returns False (and changes nothing) when the demo sites exist or the catalogue demo is missing."""
    if Site.objects.filter(name=SITES[0][0]).exists():
        stdout.write("Demo sites already present; nothing to do.\n")
        seed_product_migration(stdout)  # databases seeded before product migrations existed get it too
        seed_beta_share(stdout)
        return False
    listings = {listing.key: listing for listing in Listing.objects.filter(key__in=[i[0] for i in INSTALLS])}
    if len(listings) != len(INSTALLS):
        stdout.write("Demo catalogue not found: sites, installations and rollouts were not created.\n")
        return False
    siteadmin = User.objects.filter(username="siteadmin").first()
    tokens: list[tuple[str, str]] = []
    with transaction.atomic():
        sites: dict[str, Site] = {}
        for name, product, product_version, tz, windows, sandbox in SITES:
            site = Site.objects.create(
                name=name,
                host_product=HostProduct.objects.get_or_create(key=product, defaults={"name": product.title()})[0],
                host_version=product_version,
                time_zone=tz,
                maintenance_windows=windows,
                sandbox_vendor=Vendor.objects.filter(slug=sandbox).first() if sandbox else None,
            )
            sites[name] = site
            if siteadmin is not None:
                SiteAdmin.objects.create(site=site, user=siteadmin, email=siteadmin.email)
            for email in EMAIL_ADMINS.get(name, []):
                SiteAdmin.objects.create(site=site, email=email)
            _, raw = services.site_token_create(site=site, name="demo instance")
            tokens.append((site, raw))
        for key, number, site_names in INSTALLS:
            version = Version.objects.get(listing=listings[key], number=number)
            for site_name in site_names:
                services.installation_create(site=sites[site_name], listing=listings[key], version=version)
        polled = version_create(
            listing=listings[CONSENT_DEMO_LISTING],
            actor=None,
            number="1.1.0",
            update_notes="Descriptor changed: new scope write:jira-work (sync writes back to issues).",
            scopes=["read:jira-work", "write:jira-work"],
            descriptor=CONSENT_DEMO_DESCRIPTOR,
            source="poll",
        )
        version_submit(version=polled, actor=None)
        for version in Version.objects.filter(listing__in=listings.values(), state="published").order_by("pk"):
            _run_rollout(version)
    waiting = UpgradeRequest.objects.filter(state="pending").count()
    stdout.write(
        f"Demo sites: {Site.objects.count()} sites, {Installation.objects.count()} installations, "
        f"{Rollout.objects.count()} rollouts, {waiting} upgrade request(s) waiting for consent "
        "(e-mails under var/mail/).\n"
    )
    for site, raw in tokens[:1]:
        stdout.write(
            f"Update check for {site.name}: curl -H 'Authorization: Site {raw}' "
            f"{settings.PORTAL_BASE_URL}/api/v1/sites/{site.pk}/updates\n"
        )
    seed_product_migration(stdout)
    seed_beta_share(stdout)
    return True


# --- product migration (Stash -> Bitbucket Server) -------------------------------------------

# "Legacy Stash (Sydney)" (above) runs globex-stash-hooks 1.2.3: moving it to Bitbucket Server
# offers 1.3.0. This second Stash site also runs an app whose vendor suffixed the Bitbucket
# build (2.0.0-bitbucket, which sorts below the Stash 2.0.0), so the move shows the why-not.
MIGRATION_SITE = ("Initrode Stash (Austin)", "stash", "3.11.0", "America/Chicago")
SUFFIXED_LISTING = "globex-branch-guard"


def seed_product_migration(stdout: TextIO) -> bool:
    """Idempotent: nothing happens when the suffixed listing exists (or the catalogue demo is missing)."""
    from demo.catalogue import _release
    from marketplace.services import listing_create

    if Listing.objects.filter(key=SUFFIXED_LISTING).exists():
        return False
    globex = Vendor.objects.filter(slug="globex-software").first()
    owner = User.objects.filter(username="globex").first()
    reviewer = User.objects.filter(username="reviewer").first()
    hooks = Listing.objects.filter(key="globex-stash-hooks").first()
    products = {p.key: p for p in HostProduct.objects.filter(key__in=["stash", "bitbucket-server"])}
    if not (globex and owner and reviewer and hooks) or len(products) != 2:
        stdout.write("Demo catalogue not found: the product migration demo was not created.\n")
        return False
    with transaction.atomic():
        guard = listing_create(
            vendor=globex,
            actor=owner,
            key=SUFFIXED_LISTING,
            name="Globex Branch Guard",
            scheme="manual",
            host_products=list(products.values()),
            summary="Protects release branches on Stash and Bitbucket Server.",
        )
        # The Bitbucket build was released first with a suffix, then the Stash build without one:
        # 2.0.0-bitbucket < 2.0.0, so a site moving from Stash can never be offered it.
        _release(
            guard,
            owner,
            reviewer,
            "2.0.0-bitbucket",
            "Bitbucket Server build.",
            scopes=["read:repository"],
            compatibility=[{"product": "bitbucket-server", "min": "4.0"}],
        )
        stash_build = _release(
            guard,
            owner,
            reviewer,
            "2.0.0",
            "Stash build.",
            scopes=["read:repository"],
            compatibility=[{"product": "stash", "min": "3.0", "max": "3.11"}],
        )
        name, product, product_version, tz = MIGRATION_SITE
        site, created = Site.objects.get_or_create(
            name=name, defaults={"host_product": products[product], "host_version": product_version, "time_zone": tz}
        )
        siteadmin = User.objects.filter(username="siteadmin").first()
        if created and siteadmin is not None:
            SiteAdmin.objects.create(site=site, user=siteadmin, email=siteadmin.email)
        hooks_stash = Version.objects.get(listing=hooks, number="1.2.3")
        services.installation_create(site=site, listing=hooks, version=hooks_stash)
        services.installation_create(site=site, listing=guard, version=stash_build)
    stdout.write(
        f"Product migration demo: sign in as siteadmin and open {settings.PORTAL_BASE_URL}/upgrades/sites/{site.pk}/ "
        "(Move to another product: Bitbucket Server 4.0): globex-stash-hooks is offered 1.3.0, "
        "globex-branch-guard says why 2.0.0-bitbucket is not offered.\n"
    )
    return True


# --- OCP beta share link -----------------------------------------------------------------------

# The catalogue demo leaves acme-ocp-sync 1.1.0-beta.1 in review: the reviewer approves it and the
# vendor publishes it, then makes a share link (the only way to install a beta). 1.1.0-beta.2 goes
# into review in its place, so the demo keeps a version in every state; when the demo reviewer
# approves it and the vendor publishes it, it reaches the sites that installed beta.1 by the link.
BETA_LISTING = "acme-ocp-sync"
BETA_NUMBER = "1.1.0-beta.1"
NEXT_BETA = ("1.1.0-beta.2", "Beta 2: retries when the data platform rate-limits the sync.")
NEXT_BETA_SCOPES = ["read:jira-user", "storage:app"]
NEXT_BETA_MEMBERS = ["siteadmin@customer.example.com"]


def seed_beta_share(stdout: TextIO) -> bool:
    """Idempotent: once the listing has a share link nothing is added (its URL is shown again)."""
    from upgrades.models import BetaShareLink
    from upgrades.services.beta import beta_share_link_create
    from upgrades.share_links import beta_link_url
    from versions.services import version_approve, version_publish, version_start_review

    listing = Listing.objects.filter(key=BETA_LISTING).first()
    vendor = User.objects.filter(username="vendor").first()
    reviewer = User.objects.filter(username="reviewer").first()
    beta = Version.objects.filter(listing=listing, number=BETA_NUMBER).first() if listing else None
    if not (listing and vendor and reviewer and beta):
        stdout.write("Demo catalogue not found: the beta share link demo was not created.\n")
        return False
    link = BetaShareLink.objects.filter(version__listing=listing).order_by("pk").first()
    created = link is None
    if created:
        with transaction.atomic():
            if beta.state == "in_review":
                beta = version_approve(version=beta, actor=reviewer, comment="Beta looks good.")
            if beta.state == "approved":
                beta = version_publish(version=beta, actor=vendor, comment="Beta for early customers.")
            number, notes = NEXT_BETA
            if not Version.objects.filter(listing=listing, number=number).exists():
                # siteadmin is one of its members: they test it on their sites while it is in review.
                nxt = version_create(
                    listing=listing,
                    actor=vendor,
                    number=number,
                    update_notes=notes,
                    scopes=NEXT_BETA_SCOPES,
                    members=NEXT_BETA_MEMBERS,
                )
                version_submit(version=nxt, actor=vendor)
                version_start_review(version=nxt, actor=reviewer)
            link = beta_share_link_create(version=beta, actor=vendor, expires_in_days=365)
        _run_rollout(beta)  # reaches nobody yet: only sites that install it by the link run a beta
    stdout.write(
        f"OCP beta share link ({listing.key}@{link.version.number}): sign in as siteadmin and open "
        f"{beta_link_url(link)} to install it on a site (the vendor's list: "
        f"{settings.PORTAL_BASE_URL}/portal/versions/{link.version_id}/).\n"
    )
    return created
