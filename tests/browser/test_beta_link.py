"""OCP beta share link in real Chromium: the vendor makes a link on the beta version's page,
a site admin opens it, sees the beta's scopes and price, picks one of their sites and
installs; the vendor's page then counts the install."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.login import login
from tests.factories import ScopeFactory
from tests.upgrades.beta_world import make_beta_world, outsider_site
from upgrades.models import BetaInstall, Installation

pytestmark = pytest.mark.django_db(transaction=True)


def test_vendor_shares_a_beta_and_a_site_admin_installs_it(page):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    bw = make_beta_world()
    outsider = outsider_site()
    version_path = f"/portal/versions/{bw.beta.pk}/"

    login(page, bw.vendor_user.username, "pass", next_url=version_path)
    expect(page.get_by_role("heading", name="Beta share links")).to_be_visible()
    page.fill("#beta-expires", "14")
    page.get_by_role("button", name="Create share link").click()
    expect(page.locator(".messages")).to_contain_text("Share link made")
    url = page.locator("input.beta-link-url").first.input_value()
    assert "/upgrades/beta/" in url
    page.context.clear_cookies()

    link_path = urlsplit(url).path
    login(page, bw.admin.username, "pass", next_url=link_path)
    main = page.locator("main")
    expect(main).to_contain_text(f"{bw.listing.key}@1.1.0-beta.1")
    expect(main).to_contain_text("write:jira-work")
    expect(page.get_by_test_id("beta-price")).to_have_text("Free")
    assert outsider.name not in main.inner_text()  # only the admin's own sites are offered
    assert not Installation.objects.filter(site=bw.new_site).exists()  # looking changed nothing

    page.get_by_label(re.compile("Fresh Site")).check()
    page.get_by_role("button", name=re.compile("Install 1.1.0-beta.1")).click()
    expect(page.locator(".messages")).to_contain_text("is installed at 1.1.0-beta.1 on Fresh Site")
    assert page.url.endswith(f"/upgrades/sites/{bw.new_site.pk}/")
    installation = Installation.objects.get(site=bw.new_site, listing=bw.listing)
    assert installation.version == bw.beta and installation.state == "active"
    assert BetaInstall.objects.get().installed_by == bw.admin

    page.goto(link_path)  # the site now runs it: nothing more to install there
    expect(page.get_by_label(re.compile("Fresh Site"))).to_be_disabled()

    page.context.clear_cookies()
    login(page, bw.vendor_user.username, "pass", next_url=version_path)
    expect(page.get_by_test_id("beta-link-installs").first).to_have_text("1")
