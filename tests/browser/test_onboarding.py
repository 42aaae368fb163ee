"""Onboarding in real Chromium, with no help from the admin, reading e-mails from a real SMTP server.

A brand-new vendor: sign up, is refused until the address is verified, verifies it
from the e-mail, creates a vendor and a listing, invites a developer; the developer
signs up from the invitation, verifies, joins and submits a version; a reviewer
approves it (through the services, as in test_vendor_flow) and the owner publishes it.

A brand-new customer: sign up (a duplicate address is refused), verify, register a
site, make a token for the update check (shown once), call the update check with it,
revoke it, and be refused.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from marketplace.models import Listing, Vendor, VendorMembership
from tests.factories import HostProductFactory, ReviewerFactory, ScopeFactory, UserFactory
from upgrades.models import Site, SiteToken
from versions import services
from versions.models import Version

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Correct-Horse-Battery-7"


def text_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def link_in(message, path: str) -> str:
    match = re.search(rf"https?://\S+{re.escape(path)}\S+", text_of(message))
    assert match, f"no {path} link in {text_of(message)!r}"
    return match.group(0)


def sign_up(page, email: str, next_url: str = "") -> None:
    page.goto("/accounts/signup/" + (f"?next={next_url}" if next_url else ""))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()


def mail_to(smtp_server, address: str, count: int):
    messages = smtp_server.wait_for(count)
    mine = [m for m in messages if address in m["To"]]
    assert mine, f"no e-mail to {address}: {[m['To'] for m in messages]}"
    return mine[-1]


def test_a_new_vendor_signs_up_invites_a_developer_and_publishes(page, chromium_browser, live_server, smtp_server):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    HostProductFactory(key="jira", name="Jira")
    reviewer = ReviewerFactory()
    page.on("dialog", lambda dialog: dialog.accept())

    sign_up(page, "vera@vendor.example.com")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    page.get_by_role("link", name="create your vendor").click()
    page.get_by_label("Vendor name").fill("Vera Apps")
    page.get_by_label("Slug").fill("vera-apps")
    page.get_by_label("Contact e-mail").fill("team@vendor.example.com")
    page.get_by_role("button", name="Create vendor").click()
    # Unverified: refused with what to do, and nothing is created.
    expect(page.locator(".error-summary")).to_contain_text("Verify your e-mail address before you create a vendor")
    assert not Vendor.objects.exists()

    page.goto(link_in(mail_to(smtp_server, "vera@vendor.example.com", 1), "/accounts/confirm-email/"))
    page.goto("/portal/vendors/new/")
    page.get_by_label("Vendor name").fill("Vera Apps")
    page.get_by_label("Slug").fill("vera-apps")
    page.get_by_label("Contact e-mail").fill("team@vendor.example.com")
    page.get_by_role("button", name="Create vendor").click()
    expect(page.locator(".messages")).to_contain_text("Vera Apps is created and you are its owner")

    page.get_by_label("E-mail address").fill("dan@vendor.example.com")
    page.get_by_label("Role", exact=True).select_option("developer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to dan@vendor.example.com")
    expect(page.locator("#invitations-heading + table")).to_contain_text("dan@vendor.example.com")

    page.goto("/portal/new-listing/")
    page.get_by_label("Key").fill("vera-timer")
    page.get_by_label("Name", exact=True).fill("Vera Timer")
    page.get_by_label("Jira").check()
    page.get_by_role("button", name="Create listing").click()
    expect(page).to_have_url(re.compile(r"/portal/listings/vera-timer/$"))

    # The developer, in a browser of their own, follows the e-mailed invitation.
    invitation_url = link_in(mail_to(smtp_server, "dan@vendor.example.com", 2), "/invitations/vendor/")
    dev_context = chromium_browser.new_context(base_url=live_server.url)
    dev_context.set_default_timeout(15_000)
    dev = dev_context.new_page()
    try:
        dev.goto(invitation_url)
        expect(dev.locator("main")).to_contain_text("join Vera Apps as developer")
        dev.get_by_role("link", name="Create an account with dan@vendor.example.com").click()
        dev.get_by_label("Email").fill("dan@vendor.example.com")
        dev.get_by_label("Password", exact=True).fill(PASSWORD)
        dev.get_by_label("Password (again)").fill(PASSWORD)
        dev.get_by_role("button", name="Sign Up").click()
        dev.goto(invitation_url)
        dev.get_by_role("button", name="Accept and join Vera Apps").click()
        # Not verified yet: refused, nothing joined.
        expect(dev.locator("main")).to_contain_text("Verify your e-mail address before you accept an invitation")
        assert VendorMembership.objects.count() == 1
        dev.goto(link_in(mail_to(smtp_server, "dan@vendor.example.com", 3), "/accounts/confirm-email/"))
        dev.goto(invitation_url)
        dev.get_by_role("button", name="Accept and join Vera Apps").click()
        expect(dev.locator(".messages")).to_contain_text("Welcome to Vera Apps: you joined as developer")
        # The link works once.
        dev.goto(invitation_url)
        expect(dev.locator("main")).to_contain_text("accepted")

        dev.goto("/portal/listings/vera-timer/")
        dev.get_by_role("link", name="New version").click()
        dev.get_by_label("Version number").fill("1.0.0")
        dev.get_by_label("Update notes").fill("First release.")
        dev.get_by_label("read:jira-work (read)").check()
        dev.get_by_role("button", name="Create draft").click()
        dev.get_by_role("button", name="Submit for review").click()
        expect(dev.locator("h1 .state")).to_have_text("Pending approval")
    finally:
        dev_context.close()

    version = Version.objects.get()
    assert version.transitions.get(name="submit").actor.email == "dan@vendor.example.com"
    services.version_start_review(version=version, actor=reviewer)
    services.version_approve(version=version, actor=reviewer, comment="Looks good.")

    page.goto(f"/portal/versions/{version.pk}/")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("h1 .state")).to_have_text("Published")
    version.refresh_from_db()
    assert version.state == "published"
    assert Listing.objects.get().vendor.memberships.count() == 2


def test_a_new_customer_registers_a_site_and_makes_a_token_for_the_update_check(page, live_server, smtp_server):
    HostProductFactory(key="jira", name="Jira")
    UserFactory(username="taken", email="taken@customer.example.com")

    sign_up(page, "taken@customer.example.com")
    expect(page.locator("#field-email .errorlist")).to_contain_text("already registered with this email")

    sign_up(page, "cora@customer.example.com")
    page.get_by_role("link", name="Sites").click()
    page.get_by_role("link", name="Register a site").first.click()
    page.get_by_label("Site name").fill("Cora's Jira")
    page.get_by_label("Product it runs").select_option(label="Jira")
    page.get_by_label("Product version").fill("9.12.4")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Register site").click()
    expect(page.locator(".error-summary")).to_contain_text("Verify your e-mail address before you register a site")
    assert not Site.objects.exists()

    page.goto(link_in(mail_to(smtp_server, "cora@customer.example.com", 1), "/accounts/confirm-email/"))
    page.goto("/upgrades/sites/new/")
    page.get_by_label("Site name").fill("Cora's Jira")
    page.get_by_label("Product it runs").select_option(label="Jira")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Register site").click()
    expect(page.locator(".messages")).to_contain_text("Cora's Jira is registered and you are its admin")

    page.get_by_label("Token name").fill("production instance")
    page.get_by_role("button", name="Make a token").click()
    raw = page.locator("#new-token code").inner_text().strip()
    site = Site.objects.get()
    assert SiteToken.objects.get(site=site).name == "production instance" and raw

    url = f"{live_server.url}/api/v1/sites/{site.pk}/updates"
    assert httpx.get(url, headers={"Authorization": f"Site {raw}"}).status_code == 200
    page.goto(f"/upgrades/sites/{site.pk}/")
    expect(page.locator("#new-token")).to_have_count(0)  # shown once
    expect(page.locator("#tokens-heading + p + table")).to_contain_text(raw[:8])
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".messages")).to_contain_text("is revoked")
    refused = httpx.get(url, headers={"Authorization": f"Site {raw}"})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
