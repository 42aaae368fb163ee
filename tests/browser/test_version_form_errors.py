"""The version form in real Chromium: a new version is prefilled from the live one and says so;
a submit with several wrong fields shows every error at once, each next to its field, under an
error summary whose links put the cursor in the field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.services import scope_create
from tests.browser.login import login
from tests.factories import HostProductFactory, ListingFactory, MembershipFactory, UserFactory, VersionFactory
from versions.models import Version

pytestmark = pytest.mark.django_db(transaction=True)


def test_prefilled_new_version_and_every_error_in_one_submit(page):
    membership = MembershipFactory(role="owner", user=UserFactory(username="vera"))
    listing = ListingFactory(vendor=membership.vendor, key="time-tracker", scheme="manual", pricing="free")
    jira = HostProductFactory(key="jira", name="Jira")
    scope_create(name="read:jira-work", sensitivity=1, description="See your Jira issues and worklogs")
    scope_create(name="write:jira-work", sensitivity=2, requires=["read:jira-work"])
    live = VersionFactory(
        listing=listing,
        number="1.0.0",
        state="published",
        scopes=["read:jira-work"],
        pricing="paid",
        compatibility=[{"product": "jira", "min": "9.0"}],
    )

    login(page, "vera", "pass", next_url=f"/portal/listings/{listing.key}/versions/new/")

    # Prefilled from the live version, and the page says so.
    expect(page.locator("#prefill-note")).to_contain_text("Prefilled from the live version 1.0.0")
    expect(page.locator("#prefill-note a")).to_have_attribute("href", f"/portal/versions/{live.pk}/")
    expect(page.get_by_label("read:jira-work (read)")).to_be_checked()
    expect(page.get_by_label("read:jira-work (read)")).to_be_visible()
    expect(page.locator("#field-scopes")).to_contain_text("See your Jira issues and worklogs")  # plain language
    expect(page.get_by_label("Pricing")).to_have_value("paid")
    expect(page.locator(f"#id_compat_{jira.pk}")).to_be_checked()
    expect(page.locator(f"#id_compat_{jira.pk}_min")).to_have_value("9.0")
    expect(page.get_by_label("Version number")).to_have_value("")
    expect(page.get_by_label("Update notes")).to_have_value("")

    # Six wrong fields, one submit.
    page.get_by_label("Version number").fill("1.2")
    page.get_by_label("Other scopes").fill("bad scope!")
    page.get_by_label("Members").fill("not-an-email")
    page.get_by_label("API version").fill("two")
    page.locator(f"#id_compat_{jira.pk}_max").fill("8")
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_load_state("load")

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("There are 6 problems: nothing was saved")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(6)
    expect(page.locator("#id_number_error")).to_contain_text("missing PATCH number")
    expect(page.locator("#id_update_notes_error")).to_contain_text("Update notes are required")
    expect(page.locator("#id_other_scopes_error")).to_contain_text("Scope 'scope!' is invalid")
    expect(page.locator("#id_members_error")).to_contain_text("not a valid e-mail address")
    expect(page.locator("#id_api_version_error")).to_contain_text("whole number")
    expect(page.locator("#id_compatibility_error")).to_contain_text("min 9.0 is above max 8")
    assert not Version.objects.exclude(pk=live.pk).exists()

    # The summary's links put the cursor in the field (a checkbox group: its first box).
    summary.get_by_role("link", name=re.compile("^Members:")).click()
    expect(page.get_by_label("Members")).to_be_focused()
    summary.get_by_role("link", name=re.compile("^API version:")).click()
    expect(page.get_by_label("API version")).to_be_focused()
    summary.get_by_role("link", name=re.compile("^Other scopes:")).click()
    expect(page.get_by_label("Other scopes")).to_be_focused()

    # Fixed in one go: the prefilled scope is kept.
    page.get_by_label("Version number").fill("1.1.0")
    page.get_by_label("Update notes").fill("Exports worklogs as CSV.")
    page.get_by_label("Other scopes").fill("")
    page.get_by_label("Members").fill("")
    page.get_by_label("API version").fill("1")
    page.locator(f"#id_compat_{jira.pk}_max").fill("")
    page.get_by_role("button", name="Create draft").click()
    expect(page).to_have_url(re.compile(r"/portal/versions/\d+/$"))
    version = Version.objects.get(listing=listing, number="1.1.0")
    assert version.scopes == ["read:jira-work"] and version.pricing == "paid"
    assert version.compatibility == [{"product": "jira", "min": "9.0"}]


def test_a_live_check_message_goes_under_the_field_it_concerns(page):
    membership = MembershipFactory(role="owner", user=UserFactory(username="vera"))
    listing = ListingFactory(vendor=membership.vendor, key="time-tracker", scheme="manual", pricing="free")
    VersionFactory(listing=listing, number="1.0.0", state="published", scopes=[])
    login(page, "vera", "pass", next_url=f"/portal/listings/{listing.key}/versions/new/")

    page.get_by_label("Version number").fill("1.0.1")
    expect(page.locator("#number-check")).to_contain_text("1.0.1 is valid")
    page.get_by_label("Other scopes").fill("bad scope!")
    # The scope error is told under the scopes, not under the number.
    expect(page.locator("#field-other_scopes [data-live-source]").first).to_contain_text("is invalid")
    expect(page.locator("#number-check")).not_to_contain_text("is invalid")
