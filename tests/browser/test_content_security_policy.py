"""Every kind of page works in real Chromium under the Content-Security-Policy: the vendor
portal, the site admin's pages, the admin (with the review queue) and the API docs.
Chromium reports each blocked script, style or image on the console; none may appear."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.login import login
from tests.factories import (
    ListingFactory,
    MembershipFactory,
    ReviewerFactory,
    SiteAdminFactory,
    UserFactory,
    VersionFactory,
)


def _collect_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return violations


def test_pages_admin_and_api_docs_work_under_the_policy(page, transactional_db):
    violations = _collect_violations(page)
    owner = MembershipFactory(role="owner", user=UserFactory(username="vendor", password="vendor-pass")).user
    vendor = owner.vendor_memberships.get().vendor
    listing = ListingFactory(vendor=vendor, key="acme-csp", name="Acme CSP")
    VersionFactory(listing=listing, number="1.0.0", state="published")
    draft = VersionFactory(listing=listing, number="1.1.0", state="draft")
    waiting = VersionFactory(listing=listing, number="1.2.0", state="pending_approval")
    SiteAdminFactory(user=UserFactory(username="siteadmin", password="site-pass"))
    ReviewerFactory(username="reviewer", password="reviewer-pass")

    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    login(page, "vendor", "vendor-pass")
    for path in ("/portal/", f"/portal/listings/{listing.key}/", f"/portal/versions/{draft.pk}/edit/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    # portal.js runs (it is not blocked): the live number check answers under the field.
    page.fill("#id_number", "1.1")
    expect(page.locator("body")).to_contain_text("PATCH", timeout=5_000)

    page.context.clear_cookies()
    login(page, "siteadmin", "site-pass", next_url="/upgrades/")
    page.goto("/upgrades/")
    page.wait_for_load_state("networkidle")

    page.context.clear_cookies()
    page.goto("/admin/")
    page.fill("#id_login", "reviewer")  # the admin's sign-in is the portal's (allauth)
    page.fill("#id_password", "reviewer-pass")
    page.click("button[type=submit]")
    page.goto(f"/admin/reviews/reviewqueueversion/{waiting.pk}/change/")
    page.wait_for_load_state("networkidle")

    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
    before_redoc = len(violations)
    page.goto("/api/redoc/")  # ReDoc from the sidecar's bundle, no inline script, no web fonts
    expect(page.locator("redoc .api-content h1").first).to_be_visible(timeout=15_000)
    expect(page.locator("redoc").get_by_text("API docs by Redocly")).to_be_visible()
    # ReDoc's sidebar always asks for its maker's logo from cdn.redoc.ly: the policy blocks it (no request
    # leaves the portal; offline there is nothing to load anyway) and ReDoc hides the broken image.
    redoc_violations = violations[before_redoc:]
    assert all("https://cdn.redoc.ly/redoc/logo-mini.svg" in v for v in redoc_violations), redoc_violations
    del violations[before_redoc:]

    assert violations == []
