"""Demo data for issue #16 (after demo.sites): one rollout in stages, and one yanked version.

Acme Pilot Planner 1.0.0 runs on 24 pilot customers' Jira sites; 1.1.0 is
published in stages (5, 25, 50, 100 %, advancing every 24 hours, halting at
20 % failures) and advanced once by the vendor, so the rollout page shows
stage 2 of 4 with its Advance button. Its 1.0.1 was yanked (with a reason)
before the sites that ran it moved on. Idempotent.
"""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from demo.sites import _run_rollout
from marketplace import services as catalogue
from marketplace.models import HostProduct, Listing, Vendor
from upgrades import services
from upgrades.models import Rollout, Site, SiteAdmin
from versions import services as lifecycle
from versions.services.stages import version_publish_in_stages
from versions.services.yanks import version_yank

User = get_user_model()

LISTING_KEY = "acme-pilot-planner"
PILOT_SITES = 24
STAGES = [5, 25, 50, 100]


def _reviewed(listing: Listing, vendor, reviewer, number: str, notes: str):
    version = lifecycle.version_create(
        listing=listing, actor=vendor, number=number, update_notes=notes, scopes=["read:jira-work"]
    )
    version = lifecycle.version_submit(version=version, actor=vendor)
    lifecycle.version_start_review(version=version, actor=reviewer)
    return lifecycle.version_approve(version=version, actor=reviewer, comment="Looks good.")


def seed(stdout: TextIO) -> bool:
    """Returns False (and changes nothing) when the listing exists or the catalogue demo is missing."""
    listing = Listing.objects.filter(key=LISTING_KEY).first()
    if listing is not None:
        _describe(stdout, listing)
        return False
    acme = Vendor.objects.filter(slug="acme-apps").first()
    vendor = User.objects.filter(username="vendor").first()
    reviewer = User.objects.filter(username="reviewer").first()
    jira = HostProduct.objects.filter(key="jira").first()
    if not (acme and vendor and reviewer and jira):
        stdout.write("Demo catalogue not found: the staged rollout demo was not created.\n")
        return False
    siteadmin = User.objects.filter(username="siteadmin").first()
    with transaction.atomic():
        listing = catalogue.listing_create(
            vendor=acme,
            actor=vendor,
            key=LISTING_KEY,
            name="Acme Pilot Planner",
            summary="Plan pilots and rollouts on Jira boards.",
            scheme="manual",
            host_products=[jira],
        )
        v1 = lifecycle.version_publish(
            version=_reviewed(listing, vendor, reviewer, "1.0.0", "First release: pilot plans on boards."),
            actor=vendor,
        )
        for n in range(1, PILOT_SITES + 1):
            site = Site.objects.create(
                name=f"Pilot customer {n:02d} (Jira)", host_product=jira, host_version="9.12.0", time_zone="UTC"
            )
            SiteAdmin.objects.create(site=site, email=f"jira-admins@pilot{n:02d}.example.com")
            if siteadmin is not None and n == 1:
                SiteAdmin.objects.create(site=site, user=siteadmin, email=siteadmin.email)
            services.installation_create(site=site, listing=listing, version=v1)
        # 1.0.1 was released and then yanked: the board export dropped columns.
        v101 = lifecycle.version_publish(
            version=_reviewed(listing, vendor, reviewer, "1.0.1", "Faster board export."), actor=vendor
        )
    _run_rollout(v101)
    with transaction.atomic():
        version_yank(
            version=v101,
            actor=vendor,
            reason="The board export drops custom columns; 1.1.0 fixes it. Stay on 1.0.0 until then.",
        )
    with transaction.atomic():
        v110 = version_publish_in_stages(
            version=_reviewed(listing, vendor, reviewer, "1.1.0", "Board export keeps custom columns; new timeline."),
            actor=vendor,
            stages=STAGES,
            advance_every_hours=24,
            halt_failure_percent=20,
        )
    rollout = _run_rollout(v110)
    if rollout is not None:
        services.rollout_stage_advance(rollout=rollout, actor=vendor)
        while services.rollout_process_chunk(rollout_id=rollout.pk):
            pass
        services.upgrades_apply_due()
    _describe(stdout, listing)
    return True


def _describe(stdout: TextIO, listing: Listing) -> None:
    rollout = Rollout.objects.filter(listing=listing).exclude(stages=[]).order_by("-pk").first()
    stage = f"stage {rollout.stage_index + 1} of {len(rollout.stages)} ({rollout.stage_percent} %)" if rollout else "-"
    stdout.write(
        f"Staged rollout demo: {listing.name} 1.1.0 at {stage}; 1.0.1 yanked. Sign in as vendor and open "
        f"{settings.PORTAL_BASE_URL}/upgrades/listings/{listing.key}/rollouts/\n"
    )
