"""Demo data for `make run`: vendors, users, scopes, host products, listings in every
numbering scheme and versions in every state, made through the services so the
history (audit rows) looks like the real thing."""

from __future__ import annotations

from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from marketplace import services as catalogue
from marketplace.models import HostProduct, Listing, Vendor
from reviews import services as workspace
from versions import services as lifecycle
from versions.models import Version
from versions.services.bundles import bundle_share

User = get_user_model()

DEMO_USERS = {
    # username: (password, e-mail, is_staff, is_superuser)
    "vendor": ("vendor-demo-pass", "vendor@acme.example.com", False, False),
    "reviewer": ("reviewer-demo-pass", "reviewer@marketplace.example.com", True, False),
    "siteadmin": ("siteadmin-demo-pass", "siteadmin@customer.example.com", False, False),
    "admin": ("admin-demo-pass", "admin@marketplace.example.com", True, True),
    "globex": ("globex-demo-pass", "owner@globex.example.com", False, False),
    "initech": ("initech-demo-pass", "owner@initech.example.com", False, False),
}

SCOPES = {
    "read:jira-work": (1, "Read Jira issues, projects and comments"),
    "write:jira-work": (2, "Create and edit Jira issues and comments"),
    "delete:jira-work": (3, "Delete Jira issues"),
    "read:jira-user": (1, "Read user names and avatars"),
    "manage:jira-configuration": (4, "Change Jira settings"),
    "read:confluence-content": (1, "Read Confluence pages"),
    "write:confluence-content": (2, "Create and edit Confluence pages"),
    "read:repository": (1, "Read repositories"),
    "write:repository": (2, "Push to repositories"),
    "storage:app": (2, "Store app data"),
    "admin": (4, "Administer the site"),
}

# Scope dependencies: an app asking for the scope must ask for these too (the form offers to add them).
SCOPE_REQUIRES = {
    "write:jira-work": ["read:jira-work"],
    "delete:jira-work": ["read:jira-work", "write:jira-work"],
    "write:confluence-content": ["read:confluence-content"],
    "write:repository": ["read:repository"],
}

HOST_PRODUCTS = {
    "jira": "Jira",
    "confluence": "Confluence",
    "stash": "Stash",
    "bitbucket-server": "Bitbucket Server",
}


def _user(username: str) -> Any:
    password, email, is_staff, is_superuser = DEMO_USERS[username]
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_password(password)
        user.is_staff = is_staff
        user.is_superuser = is_superuser
        user.save()
    return user


def _reviewers_group() -> Group:
    group, created = Group.objects.get_or_create(name="Reviewers")
    if created:  # the reviews app's migration normally creates it with its permissions
        group.permissions.add(Permission.objects.get(codename="review_version", content_type__app_label="versions"))
    return group


def _release(listing: Listing, actor: Any, reviewer: Any, number: str, notes: str, **fields: Any) -> Version:
    """Create a version and take it through review to published."""
    version = lifecycle.version_create(listing=listing, actor=actor, number=number, update_notes=notes, **fields)
    version = lifecycle.version_submit(version=version, actor=actor)
    if version.state == "published":
        return version
    lifecycle.version_start_review(version=version, actor=reviewer)
    lifecycle.version_approve(version=version, actor=reviewer, comment="Looks good.")
    return lifecycle.version_publish(version=version, actor=actor)


def _auto(listing: Listing, number: str, notes: str, source: str, **fields: Any) -> Version:
    version = lifecycle.version_create(
        listing=listing, actor=None, number=number, update_notes=notes, source=source, **fields
    )
    return lifecycle.version_submit(version=version, actor=None)


@transaction.atomic
def seed(stdout: TextIO) -> bool:
    """Create the demo catalogue; returns False (and changes nothing) when it exists."""
    users = {name: _user(name) for name in DEMO_USERS}
    users["reviewer"].groups.add(_reviewers_group())
    if Vendor.objects.filter(slug="acme-apps").exists():
        stdout.write("Demo catalogue already present; nothing to do.\n")
        return False

    for name, (level, description) in SCOPES.items():
        catalogue.scope_create(
            name=name, sensitivity=level, description=description, requires=SCOPE_REQUIRES.get(name, ())
        )
    products = {
        key: HostProduct.objects.get_or_create(key=key, defaults={"name": n})[0] for key, n in HOST_PRODUCTS.items()
    }

    acme = catalogue.vendor_create(name="Acme Apps", owner=users["vendor"], contact_email="team@acme.example.com")
    globex = catalogue.vendor_create(
        name="Globex Software", owner=users["globex"], contact_email="apps@globex.example.com"
    )
    initech = catalogue.vendor_create(
        name="Initech Labs", owner=users["initech"], contact_email="dev@initech.example.com"
    )
    reviewer, vendor = users["reviewer"], users["vendor"]

    def listing(vendor_: Vendor, owner: Any, key: str, name: str, scheme: str, **kw: Any) -> Listing:
        host = kw.pop("products", ["jira"])
        return catalogue.listing_create(
            vendor=vendor_,
            actor=owner,
            key=key,
            name=name,
            scheme=scheme,
            host_products=[products[p] for p in host],
            **kw,
        )

    # --- Acme Apps (the demo vendor) -------------------------------------------------
    timesheets = listing(
        acme,
        vendor,
        "acme-timesheets",
        "Acme Timesheets",
        "manual",
        summary="Log work on Jira issues and export timesheets.",
    )
    _release(timesheets, vendor, reviewer, "1.0.0", "First release: log time on issues.", scopes=["read:jira-work"])
    _release(
        timesheets, vendor, reviewer, "1.0.1", "Fixes the weekly export for long months.", scopes=["read:jira-work"]
    )
    lifecycle.version_create(
        listing=timesheets,
        actor=vendor,
        number="1.1.0",
        update_notes="Adds worklog editing straight from the timesheet.",
        scopes=["read:jira-work", "write:jira-work"],
    )

    reports = listing(
        acme,
        vendor,
        "acme-reports",
        "Acme Reports",
        "manual",
        pricing="paid",
        summary="Dashboards and scheduled reports for Jira.",
    )
    _release(
        reports,
        vendor,
        reviewer,
        "2.0.0",
        "New report designer.",
        scopes=["read:jira-work", "read:jira-user"],
        pricing="paid",
    )
    pending = lifecycle.version_create(
        listing=reports,
        actor=vendor,
        number="2.1.0",
        update_notes="Scheduled PDF reports by e-mail.",
        scopes=["read:jira-work", "read:jira-user", "storage:app"],
        pricing="paid",
    )
    lifecycle.version_submit(version=pending, actor=vendor)

    sync = listing(
        acme,
        vendor,
        "acme-connect-sync",
        "Acme Connect Sync",
        "connect",
        descriptor_url="https://acme.example.com/sync/atlassian-connect.json",
        summary="Two-way sync between Jira and your CRM.",
    )
    _auto(
        sync,
        "1.0.0",
        "Initial descriptor.",
        "poll",
        scopes=["read:jira-work"],
        descriptor={
            "key": "acme-connect-sync",
            "name": "Acme Connect Sync",
            "baseUrl": "https://acme.example.com/sync",
            "apiVersion": 1,
            "scopes": ["READ"],
            "enableLicensing": False,
            "modules": {},
        },
    )

    board = listing(
        acme, vendor, "acme-forge-board", "Acme Forge Board", "forge", summary="Kanban extras, built on Forge."
    )
    _auto(board, "1.0.0", "First production deploy.", "deploy", scopes=["read:jira-work"])
    _auto(board, "1.1.0", "Swimlane colours.", "deploy", scopes=["read:jira-work"])

    ocp = listing(
        acme, vendor, "acme-ocp-sync", "Acme OCP Sync", "ocp", summary="Sync contacts into the data platform."
    )
    _release(ocp, vendor, reviewer, "1.0.0", "General availability.", scopes=["read:jira-user"])
    dev = lifecycle.version_create(
        listing=ocp,
        actor=vendor,
        number="1.1.0-dev.1",
        update_notes="Work in progress: batching.",
        scopes=["read:jira-user", "storage:app"],
    )
    lifecycle.version_submit(version=dev, actor=vendor)  # -dev skips review: live on the sandbox only
    beta = lifecycle.version_create(
        listing=ocp,
        actor=vendor,
        number="1.1.0-beta.1",
        update_notes="Beta: batched sync.",
        scopes=["read:jira-user", "storage:app"],
    )
    lifecycle.version_submit(version=beta, actor=vendor)
    lifecycle.version_start_review(version=beta, actor=reviewer)

    # --- Globex Software ----------------------------------------------------------------
    owner = users["globex"]
    diagrams = listing(
        globex,
        owner,
        "globex-diagrams",
        "Globex Diagrams",
        "manual",
        products=["confluence"],
        summary="Draw diagrams in Confluence pages.",
    )
    _release(diagrams, owner, reviewer, "3.0.0", "Rewritten editor.", scopes=["read:confluence-content"])
    rejected = lifecycle.version_create(
        listing=diagrams, actor=owner, number="3.0.1", update_notes="Small fixes.", scopes=["read:confluence-content"]
    )
    lifecycle.version_submit(version=rejected, actor=owner)
    lifecycle.version_start_review(version=rejected, actor=reviewer)
    lifecycle.version_reject(version=rejected, actor=reviewer, comment="The update notes must say what was fixed.")
    approved = lifecycle.version_create(
        listing=diagrams,
        actor=owner,
        number="3.1.0",
        update_notes="Export diagrams as SVG.",
        scopes=["read:confluence-content", "write:confluence-content"],
    )
    lifecycle.version_submit(version=approved, actor=owner)
    lifecycle.version_start_review(version=approved, actor=reviewer)
    lifecycle.version_approve(version=approved, actor=reviewer, comment="Approved.")
    # A question from the reviewer waiting for Globex's answer (the reviewer workspace's needs information).
    asked = lifecycle.version_create(
        listing=diagrams,
        actor=owner,
        number="3.2.0",
        update_notes="Share diagrams with people outside the space.",
        scopes=["read:confluence-content", "write:confluence-content"],
    )
    lifecycle.version_submit(version=asked, actor=owner)
    workspace.review_claim(version=asked, actor=reviewer)
    workspace.review_ask(
        version=asked, actor=reviewer, body="Who can open a shared diagram: anyone with the link, or signed-in users?"
    )

    suite = listing(
        globex,
        owner,
        "globex-bundle-suite",
        "Globex Bundle Suite",
        "bundle",
        summary="An app group: API, worker and UI.",
    )
    bundle_share(
        listing=suite,
        actor=owner,
        major=1,
        components=[{"name": "api", "version": "2026.10.1"}, {"name": "ui", "version": "5.2"}],
        update_notes="First share.",
    )
    bundle_share(
        listing=suite,
        actor=owner,
        major=1,
        components=[{"name": "api", "version": "2026.10.1"}, {"name": "ui", "version": "5.3"}],
    )

    hooks = listing(
        globex,
        owner,
        "globex-stash-hooks",
        "Globex Repository Hooks",
        "manual",
        products=["stash", "bitbucket-server"],
        summary="Pre-receive hooks for Stash and Bitbucket Server.",
    )
    _release(
        hooks,
        owner,
        reviewer,
        "1.2.3",
        "Stash release.",
        scopes=["read:repository"],
        compatibility=[{"product": "stash", "min": "3.0", "max": "3.11"}],
    )
    _release(
        hooks,
        owner,
        reviewer,
        "1.3.0",
        "Bitbucket Server release.",
        scopes=["read:repository"],
        compatibility=[{"product": "bitbucket-server", "min": "4.0"}],
    )

    # --- Initech Labs -----------------------------------------------------------------
    owner = users["initech"]
    backup = listing(initech, owner, "initech-backup", "Initech Backup", "manual", summary="Back up Jira projects.")
    canceled = lifecycle.version_create(listing=backup, actor=owner, number="0.9.0", update_notes="Preview build.")
    lifecycle.version_cancel(version=canceled, actor=owner, comment="Superseded by 1.0.0 before review.")
    waiting = lifecycle.version_create(
        listing=backup, actor=owner, number="1.0.0", update_notes="First release.", scopes=["read:jira-work"]
    )
    lifecycle.version_submit(version=waiting, actor=owner)

    audit = listing(initech, owner, "initech-forge-audit", "Initech Audit Log", "forge", summary="Audit log on Forge.")
    _auto(audit, "1.0.0", "First production deploy.", "deploy", scopes=["read:jira-work", "read:jira-user"])

    mail = listing(initech, owner, "initech-ocp-mail", "Initech OCP Mail", "ocp", summary="Mail campaigns.")
    lifecycle.version_create(listing=mail, actor=owner, number="2.0.0", update_notes="Campaign scheduling.")

    stdout.write(
        f"Demo catalogue: {Vendor.objects.count()} vendors, {Listing.objects.count()} listings, "
        f"{Version.objects.count()} versions.\n"
    )
    return True
