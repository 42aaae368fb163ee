"""The vendor's main flow in real Chromium: from nothing to a published version.

Sign in, create a listing (after a refused key), create a version (the number
is refused live and on submit, then fixed), submit it, let a reviewer approve
it through the services, and publish it from the version page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.models import Listing
from tests.browser.login import login
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    ReviewerFactory,
    ScopeFactory,
    UserFactory,
    VersionFactory,
)
from versions import services
from versions.models import Version

pytestmark = pytest.mark.django_db(transaction=True)


def test_vendor_takes_a_new_listing_to_a_published_version(page):
    MembershipFactory(role="owner", user=UserFactory(username="vera"))
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    HostProductFactory(key="jira", name="Jira")
    reviewer = ReviewerFactory()
    page.on("dialog", lambda dialog: dialog.accept())

    login(page, "vera", "pass")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("heading", name="Your listings")).to_be_visible()

    # A listing: the key rule is explained when the key is refused, and nothing is saved.
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Key").fill("Time_Tracker")
    page.get_by_label("Name", exact=True).fill("Time Tracker")
    page.get_by_label("Jira").check()
    page.get_by_role("button", name="Create listing").click()
    expect(page.locator("#id_key_error")).to_contain_text("must start with a lower-case letter")
    assert not Listing.objects.exists()
    page.get_by_label("Key").fill("time-tracker")
    page.get_by_role("button", name="Create listing").click()
    expect(page).to_have_url(re.compile(r"/portal/listings/time-tracker/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Time Tracker")

    # A version: the number is checked live with the server's rules, the notes counted.
    page.get_by_role("link", name="New version").click()
    page.get_by_label("Version number").fill("1.0")
    expect(page.locator("#number-check")).to_contain_text("missing PATCH number")
    notes = "First release: log time on Jira issues."
    page.get_by_label("Update notes").fill(notes)
    expect(page.locator("#notes-counter")).to_have_text(f"{len(notes)} / 500 characters")
    page.get_by_label("read:jira-work (read)").check()
    page.get_by_role("button", name="Create draft").click()
    # Refused on the server too: the error is next to the field and nothing was saved.
    expect(page.locator("#id_number_error")).to_contain_text("missing PATCH number")
    assert not Version.objects.exists()
    expect(page.get_by_label("Update notes")).to_have_value(notes)
    page.get_by_label("Version number").fill("1.0.0")
    expect(page.locator("#number-check")).to_contain_text("1.0.0 is valid")
    page.get_by_role("button", name="Create draft").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("time-tracker@1.0.0")
    expect(page.locator("h1 .state")).to_have_text("Draft")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("h1 .state")).to_have_text("Pending approval")

    # The reviewer works in the admin; here the same services approve it.
    version = Version.objects.get()
    assert version.scopes == ["read:jira-work"]
    services.version_start_review(version=version, actor=reviewer)
    services.version_approve(version=version, actor=reviewer, comment="Looks good.")

    page.reload()
    expect(page.locator("h1 .state")).to_have_text("Approved")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("h1 .state")).to_have_text("Published")
    expect(page.locator(".messages")).to_contain_text("is published")
    version.refresh_from_db()
    assert version.state == "published"
    history = [t.name for t in version.transitions.order_by("at", "id")]
    assert history == ["create", "submit", "start_review", "approve", "publish"]


def test_version_form_previews_consent_and_counts_over_the_limit(page):
    owner = MembershipFactory(role="owner", user=UserFactory(username="vera")).user
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    ScopeFactory(name="admin:jira", sensitivity=4)
    listing = ListingFactory(vendor=owner.vendors.get(), key="time-tracker", name="Time Tracker")
    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=["read:jira-work"])

    login(page, "vera", "pass", next_url="/portal/listings/time-tracker/versions/new/")
    page.get_by_label("Version number").fill("1.0.1")
    # The scope picker filters the catalogue (ticked scopes stay in view).
    page.get_by_label("Filter the catalogue").fill("write")
    expect(page.get_by_label("admin:jira (admin)")).to_be_hidden()
    expect(page.get_by_label("write:jira-work (write)")).to_be_visible()
    # read:jira-work is prefilled from the live 1.0.0, and ticked scopes stay in view.
    expect(page.get_by_label("read:jira-work (read)")).to_be_checked()
    expect(page.get_by_label("read:jira-work (read)")).to_be_visible()
    page.get_by_label("Filter the catalogue").fill("")
    page.get_by_label("read:jira-work (read)").check()
    page.get_by_label("write:jira-work (write)").check()
    page.get_by_label("Pricing").select_option("paid")
    expect(page.locator("#consent-preview")).to_have_text("new scope write:jira-work; price: free -> paid")
    # A PATCH may add no scope under the manual scheme: said live, before submitting.
    expect(page.locator("#number-check")).to_contain_text("MINOR or MAJOR")
    page.get_by_label("Update notes").fill("x" * 505)
    expect(page.locator("#notes-counter")).to_have_text("505 / 500 characters (5 over the limit)")
