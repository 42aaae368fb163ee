"""Issue 10, items 4 and 5 in real Chromium: the vendor finds a submitted version read-only
and withdraws it to draft; a member tests a version under review on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.login import login
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    SiteAdminFactory,
    SiteFactory,
    UserFactory,
    VersionFactory,
)
from upgrades.models import Installation
from versions.models import Version

pytestmark = pytest.mark.django_db(transaction=True)


def test_vendor_withdraws_a_submitted_version_to_edit_it(page):
    owner = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=owner.vendor, key="acme-timer")
    version = VersionFactory(listing=listing, number="1.0.0", state="pending_approval")
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, owner.user.username, "pass", next_url=f"/portal/versions/{version.pk}/")
    expect(page.locator("#read-only-note")).to_contain_text("read-only")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    page.fill("#withdraw-comment", "wrong notes")
    page.get_by_role("button", name="Withdraw to draft").click()
    expect(page.locator(".messages")).to_contain_text("is back in draft")
    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    assert Version.objects.get(pk=version.pk).state == "draft"
    expect(page.locator("main")).to_contain_text("wrong notes")  # the history row


def test_a_member_installs_a_version_under_review_on_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    owner = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=owner.vendor, key="acme-timer", name="Acme Timer")
    tester = UserFactory(username="tess")
    site = SiteFactory(name="Tess Jira", host_product=HostProductFactory(key="jira", name="Jira"))
    SiteAdminFactory(site=site, user=tester, email=tester.email)
    version = VersionFactory(
        listing=listing, number="2.0.0", state="in_review", members=[tester.email], update_notes="The new timer."
    )
    login(page, tester.username, "pass", next_url="/upgrades/")
    table = page.get_by_test_id("to-test")
    expect(table).to_contain_text("Acme Timer")
    table.get_by_role("link", name="See and install").click()
    expect(page.get_by_test_id("tested-version")).to_have_text("acme-timer@2.0.0")
    expect(page.locator("main")).to_contain_text("The new timer.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.get_by_role("button", name="Install 2.0.0").click()  # no site chosen: told next to the choice
    expect(page.get_by_test_id("tested-error")).to_contain_text("Site: choose one of your sites")
    assert not Installation.objects.exists()
    page.get_by_label(re.compile("Tess Jira")).check()
    page.get_by_role("button", name="Install 2.0.0").click()
    expect(page.locator(".messages")).to_contain_text("Acme Timer 2.0.0 runs on Tess Jira for testing")
    assert Installation.objects.get(site=site).version == version
