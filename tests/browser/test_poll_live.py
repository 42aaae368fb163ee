"""After "Poll now" the vendor's page updates by itself when the poll ends (static/js/polls.js,
under the CSP: no inline script), and the new row links its version and says why it bumped."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.login import login
from tests.factories import ListingFactory, MembershipFactory, UserFactory, VersionFactory
from versions.models import DescriptorPoll

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_poll_panel_updates_itself_when_the_poll_ends(page):
    membership = MembershipFactory(role="owner", user=UserFactory(username="vera"))
    listing = ListingFactory(
        vendor=membership.vendor, key="acme-connect", scheme="connect", descriptor_url="https://e.example/d.json"
    )
    earlier = DescriptorPoll.objects.create(listing=listing, url=listing.descriptor_url, outcome="unchanged")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    login(page, "vera", "pass", next_url=f"/portal/listings/acme-connect/polls/?poll_after={earlier.pk}")
    expect(page.locator("#poll-live")).to_contain_text("A poll is running")

    version = VersionFactory(listing=listing, number="1.1.0", state="pending_approval", source="poll")
    DescriptorPoll.objects.create(
        listing=listing,
        url=listing.descriptor_url,
        outcome="version_created",
        version=version,
        bump="minor",
        bump_reason="MINOR because scope added: on connect a scope or price change is a MINOR.",
        changes=[{"path": "scopes", "change": "changed", "before": '["read"]', "after": '["read","write"]'}],
    )
    expect(page.locator("#poll-live")).to_have_count(0, timeout=20_000)
    expect(page.get_by_role("status").filter(has_text="The poll ended")).to_be_visible()
    row = page.locator("tr.poll-version_created")
    expect(row).to_contain_text("MINOR because scope added")
    expect(row).to_contain_text('["read"] → ["read","write"]')
    expect(row.get_by_role("link", name="1.1.0")).to_have_attribute("href", f"/portal/versions/{version.pk}/")
    assert not [e for e in errors if "Content Security Policy" in e]
