"""The version form's live checks in real Chromium: a missing required scope with its one-click
"Add", a breaking change that needs a MAJOR bump, and build numbers that disagree with version order."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.services import scope_create
from tests.browser.login import login
from tests.factories import ListingFactory, MembershipFactory, UserFactory, VersionFactory
from versions.models import Version

pytestmark = pytest.mark.django_db(transaction=True)


def test_version_form_prompts_for_a_required_scope_breaking_changes_and_build_order(page):
    membership = MembershipFactory(role="owner", user=UserFactory(username="vera"))
    listing = ListingFactory(vendor=membership.vendor, key="time-tracker", scheme="manual")
    VersionFactory(listing=listing, number="1.2.3", state="published", scopes=["read:jira-work"])  # build 1
    scope_create(name="read:jira-work", sensitivity=1)
    scope_create(name="write:jira-work", sensitivity=2, requires=["read:jira-work"])

    login(page, "vera", "pass", next_url=f"/portal/listings/{listing.key}/versions/new/")
    page.set_viewport_size({"width": 390, "height": 844})

    # Build order: a Stash build in its own channel, below the released 1.2.3, would get the higher build 2.
    page.get_by_label("Channel").fill("stash")
    page.get_by_label("Version number").fill("1.2.3-stash")
    expect(page.locator("#number-check")).to_contain_text("Build numbers: 1.2.3-stash would get build 2")
    page.get_by_label("Channel").fill("release")

    # A breaking change needs MAJOR, said live next to the number.
    page.get_by_label("Version number").fill("1.3.0")
    expect(page.locator("#number-check")).to_contain_text("1.3.0 is valid")
    page.get_by_label("Breaking change").check()
    expect(page.locator("#number-check")).to_contain_text("a breaking change needs a MAJOR bump (for example 2.0.0)")
    page.get_by_label("Version number").fill("2.0.0")
    expect(page.locator("#number-check")).to_contain_text("2.0.0 is valid")

    # write:jira-work requires read:jira-work: the box says so and adds it in one click.
    page.get_by_label("write:jira-work (write)").check()
    page.get_by_label("read:jira-work (read)").uncheck()
    expect(page.locator("#scope-check")).to_contain_text("write:jira-work requires read:jira-work")
    page.get_by_role("button", name="Add read:jira-work").click()
    expect(page.get_by_label("read:jira-work (read)")).to_be_checked()
    expect(page.locator("#scope-check")).to_have_text("")

    page.get_by_label("Update notes").fill("Writes worklogs back to issues; drops the old export API.")
    page.get_by_label("Update notes").press("Enter")  # a textarea: a new line, not a submit
    page.get_by_label("Version number").press("Enter")  # the form's own default button, not "Add ..."
    expect(page).to_have_url(re.compile(r"/portal/versions/\d+/$"))
    version = Version.objects.get(listing=listing, number="2.0.0")
    assert version.breaking and sorted(version.scopes) == ["read:jira-work", "write:jira-work"]
