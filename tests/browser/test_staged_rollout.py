"""A staged rollout from the vendor's pages in real Chromium (issue #16, item 1).

The vendor publishes an approved version in stages from its page, finds the
rollout at its first stage on the rollout page, and advances it by hand: the
installations offered the version are exactly those whose stage came, and the
second stage holds every installation of the first.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.login import login
from tests.factories import ScopeFactory, VersionFactory
from tests.upgrades.world import make_world
from upgrades.models import Rollout, Upgrade, UpgradeRequest
from versions import policies

pytestmark = pytest.mark.django_db(transaction=True)


def _offered(version) -> set[int]:
    return set(Upgrade.objects.filter(to_version=version).values_list("installation_id", flat=True)) | set(
        UpgradeRequest.objects.filter(to_version=version).values_list("installation_id", flat=True)
    )


def _stage(world, version, percent) -> set[int]:
    limit = policies.stage_bucket_limit(percent)
    return {i.pk for i in world.installations if policies.stage_reached(i.pk, version.pk, limit)}


def test_vendor_publishes_in_stages_and_advances_the_rollout(page):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    world = make_world(sites=8)
    version = VersionFactory(listing=world.listing, number="1.0.1", scopes=["read:jira-work"], state="approved")
    page.on("dialog", lambda dialog: dialog.accept())

    login(page, world.vendor_user.username, "pass", next_url=f"/portal/versions/{version.pk}/")
    expect(page.get_by_role("heading", name="Publish in stages")).to_be_visible()
    page.get_by_label("Stages (percent of installations)").fill("25, 60, 100")
    page.get_by_label("Halt when failures reach").fill("30")
    page.get_by_role("button", name="Roll out in stages").click()

    expect(page).to_have_url(re.compile(rf"/upgrades/listings/{world.listing.key}/rollouts/$"))
    stages = page.locator(".rollout-stages")
    expect(stages).to_contain_text("Stage 1 of 3: 25 % of installations")
    expect(stages).to_contain_text("halts by itself at 30 %")
    first = _stage(world, version, 25)
    assert _offered(version) == first

    page.get_by_role("button", name="Advance to the next stage").click()
    expect(page.locator(".messages")).to_contain_text("is at stage 2 (60 % of installations)")
    expect(page.locator(".rollout-stages")).to_contain_text("Stage 2 of 3: 60 % of installations")
    second = _stage(world, version, 60)
    assert first <= second and _offered(version) == second  # the stage grew, nobody left it
    rollout = Rollout.objects.get(version=version)
    assert rollout.state == "running" and rollout.stage_index == 1
