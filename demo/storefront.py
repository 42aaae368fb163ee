"""Demo data for the storefront (after demo.catalogue and demo.sites): categories, 30+ more
listings across vendors, categories and host products, generated icons, descriptions,
screenshots for a few, free and paid, a private app opened to one site, and an OCP app
whose -dev version must not show. Idempotent: the categories mark it as done."""

from __future__ import annotations

import colorsys
import io
import zlib
from typing import TextIO

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw

from demo.catalogue import _release
from marketplace import services as catalogue
from marketplace.models import Category, HostProduct, Listing, Vendor
from marketplace.scopes import missing_required_scopes
from marketplace.selectors import scope_requirements
from upgrades.models import Site

User = get_user_model()

CATEGORIES = {
    "project-management": "Project management",
    "reporting": "Reporting",
    "time-tracking": "Time tracking",
    "developer-tools": "Developer tools",
    "documentation": "Documentation",
    "security": "Security",
    "integrations": "Integrations",
    "workflow": "Workflow",
}

# More vendors, so the catalogue is not one company's.
VENDORS = [("Umbrella", "umbrella"), ("Hooli", "hooli"), ("Stark", "stark")]

# key, name, vendor slug, products, categories, pricing, summary, scopes
APPS = [
    ("tempo-timesheets", "Tempo Timesheets", "umbrella", ["jira"], ["time-tracking"], "paid",
     "Track time on issues, approve timesheets and bill clients.", ["read:jira-work", "write:jira-work"]),
    ("worklog-pro", "Worklog Pro", "hooli", ["jira"], ["time-tracking", "reporting"], "free",
     "Worklogs by team, sprint and customer with CSV export.", ["read:jira-work"]),
    ("timer-for-jira", "Timer for Jira", "stark", ["jira"], ["time-tracking"], "free",
     "A start/stop timer on every issue.", ["read:jira-work", "write:jira-work"]),
    ("roadmap-planner", "Roadmap Planner", "globex-software", ["jira"], ["project-management"], "paid",
     "Plan releases across projects on a drag-and-drop timeline.", ["read:jira-work", "write:jira-work"]),
    ("sprint-insights", "Sprint Insights", "umbrella", ["jira"], ["reporting"], "free",
     "Burndown, velocity and scope-change charts for every sprint.", ["read:jira-work"]),
    ("gantt-charts", "Gantt Charts", "hooli", ["jira"], ["project-management"], "paid",
     "Gantt charts with dependencies and critical path.", ["read:jira-work", "write:jira-work"]),
    ("okr-board", "OKR Board", "stark", ["jira", "confluence"], ["project-management"], "free",
     "Objectives and key results linked to the work that moves them.", ["read:jira-work"]),
    ("risk-register", "Risk Register", "initech-labs", ["jira"], ["project-management", "security"], "paid",
     "Log, score and follow up project risks.", ["read:jira-work", "write:jira-work"]),
    ("issue-templates", "Issue Templates", "umbrella", ["jira"], ["workflow"], "free",
     "Create issues and sub-tasks from reusable templates.", ["write:jira-work"]),
    ("workflow-validators", "Workflow Validators", "hooli", ["jira"], ["workflow"], "paid",
     "Conditions and validators for any workflow transition.", ["manage:jira-configuration"]),
    ("approval-path", "Approval Path", "stark", ["jira"], ["workflow"], "paid",
     "Multi-step approvals with delegates and deadlines.", ["read:jira-work", "write:jira-work"]),
    ("auto-assign", "Auto Assign", "globex-software", ["jira"], ["workflow"], "free",
     "Round-robin and load-based assignment of new issues.", ["write:jira-work", "read:jira-user"]),
    ("diagram-studio", "Diagram Studio", "umbrella", ["confluence"], ["documentation"], "paid",
     "Flowcharts, UML and network diagrams inside pages.", ["read:confluence-content", "write:confluence-content"]),
    ("page-approvals", "Page Approvals", "hooli", ["confluence"], ["documentation", "workflow"], "paid",
     "Review and approve pages before they are published.", ["read:confluence-content", "write:confluence-content"]),
    ("table-filter", "Table Filter", "stark", ["confluence"], ["documentation", "reporting"], "free",
     "Filter, sort and pivot tables on any page.", ["read:confluence-content"]),
    ("glossary", "Glossary", "initech-labs", ["confluence"], ["documentation"], "free",
     "A company glossary with definitions shown on hover.", ["read:confluence-content"]),
    ("page-export-pdf", "Page Export to PDF", "globex-software", ["confluence"], ["documentation"], "paid",
     "Branded PDF and Word exports of page trees.", ["read:confluence-content"]),
    ("meeting-notes", "Meeting Notes", "umbrella", ["confluence", "jira"], ["documentation", "project-management"],
     "free", "Agendas, notes and action items that become issues.", ["write:confluence-content", "write:jira-work"]),
    ("code-insights", "Code Insights", "hooli", ["bitbucket-server", "stash"], ["developer-tools", "reporting"],
     "paid", "Coverage and static analysis results on pull requests.", ["read:repository"]),
    ("merge-checks", "Merge Checks", "stark", ["bitbucket-server", "stash"], ["developer-tools", "workflow"],
     "free", "Block merges until builds pass and reviewers approve.", ["read:repository"]),
    ("secret-scanner", "Secret Scanner", "initech-labs", ["bitbucket-server"], ["security", "developer-tools"],
     "paid", "Find API keys and passwords before they are pushed.", ["read:repository"]),
    ("repo-mirror", "Repository Mirror", "globex-software", ["bitbucket-server", "stash"], ["integrations"], "paid",
     "Mirror repositories to and from other servers.", ["read:repository", "write:repository"]),
    ("commit-graph", "Commit Graph", "umbrella", ["bitbucket-server", "stash"], ["developer-tools"], "free",
     "A visual graph of branches and merges.", ["read:repository"]),
    ("slack-bridge", "Slack Bridge", "hooli", ["jira", "confluence"], ["integrations"], "free",
     "Issue and page notifications in Slack channels.", ["read:jira-work", "read:confluence-content"]),
    ("github-links", "GitHub Links", "stark", ["jira"], ["integrations", "developer-tools"], "free",
     "Show commits, branches and pull requests on issues.", ["read:jira-work", "write:jira-work"]),
    ("salesforce-sync", "Salesforce Sync", "initech-labs", ["jira"], ["integrations"], "paid",
     "Two-way sync between Salesforce cases and issues.", ["read:jira-work", "write:jira-work"]),
    ("audit-trail", "Audit Trail", "globex-software", ["jira", "confluence"], ["security", "reporting"], "paid",
     "Who changed what and when, exportable for auditors.", ["read:jira-work", "read:confluence-content"]),
    ("access-review", "Access Review", "umbrella", ["jira"], ["security"], "paid",
     "Quarterly access reviews of groups and project roles.", ["read:jira-user", "manage:jira-configuration"]),
    ("two-step-login", "Two-Step Login", "hooli", ["jira", "confluence", "bitbucket-server"], ["security"], "paid",
     "Two-factor sign-in for every user.", ["admin"]),
    ("custom-charts", "Custom Charts", "stark", ["jira"], ["reporting"], "free",
     "Pie, bar and line charts from any search, on dashboards.", ["read:jira-work"]),
    ("service-dashboards", "Service Dashboards", "initech-labs", ["jira"], ["reporting"], "free",
     "SLA and queue dashboards for service teams.", ["read:jira-work"]),
    ("estimation-poker", "Estimation Poker", "globex-software", ["jira"], ["project-management"], "free",
     "Estimate stories together, in real time.", ["read:jira-work", "write:jira-work"]),
]  # fmt: skip

DESCRIPTION = """## What it does

{summary}

- Works with the {products} you already run
- Set up in minutes, no server to maintain
- Built by {vendor}, supported by email and chat

## Getting started

1. Press **Install** and choose your site.
2. Open the app from the site's menu.
3. Invite your team.

See the [documentation](https://docs.example.com/{key}) for details.
"""


def _color(key: str) -> tuple[int, int, int]:
    hue = (zlib.crc32(key.encode()) % 360) / 360
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.6)
    return int(r * 255), int(g * 255), int(b * 255)


def _icon(key: str, name: str) -> SimpleUploadedFile:
    """A 128x128 PNG: the app's initials on a colour made from its key."""
    image = Image.new("RGB", (128, 128), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 127, 127), radius=24, fill=_color(key))
    initials = "".join(word[0] for word in name.split()[:2]).upper()
    draw.text((64, 64), initials, fill="white", anchor="mm", font_size=52)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile(f"{key}.png", buffer.getvalue(), content_type="image/png")


def _screenshot(key: str, caption: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (960, 540), "#f4f5f7")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 959, 48), fill=_color(key))
    for row in range(6):
        top = 80 + row * 70
        draw.rectangle((40, top, 920, top + 50), fill="white", outline="#dfe1e6")
        draw.rectangle((60, top + 15, 60 + 120 + (row * 97) % 500, top + 35), fill=_color(key + str(row)))
    draw.text((480, 24), caption, fill="white", anchor="mm", font_size=22)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile(f"{key}-shot.png", buffer.getvalue(), content_type="image/png")


@transaction.atomic
def seed(stdout: TextIO) -> bool:
    if Category.objects.filter(key="project-management").exists():
        stdout.write("Demo storefront already present; nothing to do.\n")
        return False
    categories = {key: Category.objects.create(key=key, name=name) for key, name in CATEGORIES.items()}
    products = {p.key: p for p in HostProduct.objects.all()}
    reviewer = User.objects.get(username="reviewer")
    vendors = {v.slug: v for v in Vendor.objects.all()}
    owners = {slug: vendors[slug].memberships.first().user for slug in vendors}
    for name, short in VENDORS:
        user, _ = User.objects.get_or_create(username=short, defaults={"email": f"owner@{short}.example.com"})
        user.set_password(f"{short}-demo-pass")
        user.save()
        vendor = catalogue.vendor_create(name=name, owner=user, contact_email=f"apps@{short}.example.com")
        vendors[vendor.slug], owners[vendor.slug] = vendor, user

    made: list[Listing] = []
    for n, (key, name, vendor_slug, hosts, cats, pricing, summary, scopes) in enumerate(APPS):
        vendor, owner = vendors[vendor_slug], owners[vendor_slug]
        host_names = " and ".join(products[h].name for h in hosts)
        listing = catalogue.listing_create(
            vendor=vendor,
            actor=owner,
            key=key,
            name=name,
            summary=summary,
            scheme="manual",
            pricing=pricing,
            host_products=[products[h] for h in hosts],
            categories=[categories[c] for c in cats],
            description=DESCRIPTION.format(summary=summary, products=host_names, vendor=vendor.name, key=key),
            support_url=f"https://support.example.com/{key}",
            documentation_url=f"https://docs.example.com/{key}",
            privacy_url=f"https://{vendor.slug}.example.com/privacy",
            eula_url=f"https://{vendor.slug}.example.com/eula" if pricing == "paid" else "",
        )
        compatibility = [{"product": h, "min": "8.0"} for h in hosts] if n % 3 == 0 else []
        # The catalogue's required scopes come along (write:jira-work needs read:jira-work, ...).
        requirements = scope_requirements()
        scopes = sorted({*scopes, *(m.requires for m in missing_required_scopes(scopes, requirements))})
        _release(listing, owner, reviewer, "1.0.0", f"First release of {name}.", scopes=scopes,
                 pricing=pricing, compatibility=compatibility)  # fmt: skip
        if n % 2 == 0:
            _release(listing, owner, reviewer, "1.1.0", "Faster pages and a new settings screen.", scopes=scopes,
                     pricing=pricing, compatibility=compatibility)  # fmt: skip
        catalogue.listing_set_icon(listing=listing, actor=owner, upload=_icon(key, name))
        if n % 5 == 0:
            for caption in ("Overview", "Settings"):
                catalogue.listing_add_screenshot(
                    listing=listing, actor=owner, upload=_screenshot(key, f"{name}: {caption}"), caption=caption
                )
        made.append(listing)

    # The catalogue's own demo listings get a category, an icon and a description too.
    extra = {"acme-timesheets": "time-tracking", "acme-reports": "reporting", "acme-forge-board": "project-management"}
    for listing in Listing.objects.filter(key__in=extra):
        owner = owners[listing.vendor.slug]
        catalogue.listing_update(
            listing=listing,
            actor=owner,
            categories=[categories[extra[listing.key]]],
            description=f"## {listing.name}\n\n{listing.summary}\n\nMade by **{listing.vendor.name}**.",
        )
        catalogue.listing_set_icon(listing=listing, actor=owner, upload=_icon(listing.key, listing.name))

    # A private app: only the sites its vendor opened it to see it (here: one of siteadmin's).
    acme, acme_owner = vendors["acme-apps"], owners["acme-apps"]
    private = catalogue.listing_create(
        vendor=acme,
        actor=acme_owner,
        key="acme-private-connector",
        name="Acme Private Connector",
        summary="A connector built for one customer's ERP.",
        visibility="private",
        host_products=[products["jira"]],
        categories=[categories["integrations"]],
        description="Built for **Acme Customer** only: syncs purchase orders to issues.",
        allowed_sites=list(Site.objects.filter(name="Acme Customer Jira (Berlin)")),
    )
    _release(private, acme_owner, reviewer, "1.0.0", "First release.", scopes=["read:jira-work"])
    catalogue.listing_set_icon(listing=private, actor=acme_owner, upload=_icon(private.key, private.name))

    # An OCP app whose only version so far is a -dev one: it must not show in the storefront.
    dev_only = catalogue.listing_create(
        vendor=acme,
        actor=acme_owner,
        key="acme-ocp-nightly",
        name="Acme Nightly (OCP)",
        summary="Still in development: only the vendor's sandbox sees it.",
        scheme="ocp",
        host_products=[products["jira"]],
        categories=[categories["developer-tools"]],
    )
    _release(dev_only, acme_owner, reviewer, "0.1.0-dev.1", "Nightly build.", scopes=["read:jira-work"])

    catalogue.listing_search_refresh()
    stdout.write(f"Demo storefront: {len(made) + 2} more listings, {len(CATEGORIES)} categories.\n")
    return True
