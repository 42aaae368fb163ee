"""The storefront in real Chromium: a site admin searches the catalogue, opens a listing,
installs it on a compatible site (the incompatible one is greyed out with the reason),
sees it on the site's page, disables, enables and uninstalls it; then the same pages at
a phone's width (390 px) have no horizontal scrolling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.login import login
from tests.storefront.world import make_store
from upgrades.models import Installation

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_site_admin_finds_installs_and_removes_an_app(page):
    store = make_store()
    store.admin.set_password("pass")
    store.admin.save()
    login(page, store.admin.username, "pass", next_url="/apps/")

    page.get_by_label("Search apps").fill("time")
    page.get_by_role("button", name="Show apps").click()
    expect(page.locator(".result-count")).to_have_text(re.compile("1 app for “time”"))
    page.get_by_role("link", name="Timesheets Pro").click()
    expect(page.get_by_role("heading", name="Timesheets Pro", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Create and edit issues and worklogs")

    page.get_by_role("link", name="Install", exact=True).click()
    wiki = page.get_by_label(re.compile("Customer Wiki"))
    expect(wiki).to_be_disabled()
    expect(page.locator(".site-choice.unavailable")).to_contain_text(
        "Not available: Timesheets Pro runs on Jira, not on Confluence"
    )
    page.get_by_label(re.compile("Customer Jira")).check()
    page.get_by_role("button", name="Install Timesheets Pro").click()

    expect(page.locator(".messages")).to_contain_text("Timesheets Pro is installed on Customer Jira.")
    row = page.locator('tr[data-app="timesheets-pro"]')
    expect(row).to_contain_text("Running")
    installation = Installation.objects.get(site=store.jira_site, listing=store.timesheets)
    assert installation.installed_by_id == store.admin.pk

    row.get_by_role("button", name="Disable").click()
    expect(page.locator(".messages")).to_contain_text("Timesheets Pro is disabled")
    expect(row).to_contain_text("Disabled by a site admin")
    row.get_by_role("button", name="Enable").click()
    expect(row).to_contain_text("Running")
    row.get_by_role("button", name="Uninstall").click()
    expect(page.locator(".messages")).to_contain_text("Timesheets Pro is uninstalled")
    expect(row).to_contain_text("Uninstalled")
    installation.refresh_from_db()
    assert installation.state == "uninstalled"

    page.set_viewport_size({"width": 390, "height": 844})
    for path in (
        "/apps/",
        "/apps/timesheets-pro/",
        "/apps/timesheets-pro/install/",
        f"/upgrades/sites/{store.jira_site.pk}/",
    ):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 390px"
