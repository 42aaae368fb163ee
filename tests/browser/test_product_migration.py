"""A site admin moves a Stash site to Bitbucket Server in real Chromium and upgrades an app with one click."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.login import login
from tests.factories import HostProductFactory, UserFactory, VersionFactory
from tests.upgrades.migration_world import BITBUCKET, app, install, stash_site
from upgrades.models import Installation, ProductMigration

pytestmark = pytest.mark.django_db(transaction=True)


def test_site_admin_moves_the_site_and_upgrades_an_app(page):
    products = (
        HostProductFactory(key="stash", name="Stash"),
        HostProductFactory(key="bitbucket-server", name="Bitbucket Server"),
    )
    site, _ = stash_site(products, admin=UserFactory(username="sam"))
    hooks, hooks_old, hooks_new = app()
    hooks.name = "Repository Hooks"
    hooks.save()
    guard, guard_old, _ = app(stash="2.0.0", bitbucket=None)
    guard.name = "Branch Guard"
    guard.save()
    VersionFactory(listing=guard, number="2.0.0-bitbucket", compatibility=BITBUCKET, state="published")
    hooks_inst, guard_inst = install(site, hooks, hooks_old), install(site, guard, guard_old)

    login(page, "sam", "pass", next_url=f"/upgrades/sites/{site.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(site.name)

    # A version the form refuses is explained next to its field; nothing moves.
    page.get_by_label("New product").select_option("bitbucket-server")
    page.get_by_label("Its version").fill("4.x")
    page.get_by_role("button", name="Move site").click()
    expect(page.locator("#id_host_version_error")).to_contain_text("Host product version '4.x' is invalid")
    assert not ProductMigration.objects.exists()

    page.get_by_label("Its version").fill("4.0")
    page.get_by_role("button", name="Move site").click()
    # A confirmation first: what the move switches off, in a danger box; nothing moved yet.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Move {site.name} to Bitbucket Server 4.0?")
    expect(page.locator("#move-confirmation")).to_contain_text("2 apps will be switched off")
    expect(page.locator("#switched-off li")).to_have_count(2)
    expect(page.locator("#switched-off")).to_contain_text("Branch Guard")
    expect(page.locator("#switched-off")).to_contain_text("Repository Hooks")
    confirm = page.get_by_role("button", name="Switch 2 apps off and move to Bitbucket Server")
    expect(confirm).to_have_class("danger")
    assert not ProductMigration.objects.exists()
    assert Installation.objects.get(pk=hooks_inst.pk).state == "active"
    page.get_by_role("link", name="Cancel, keep").click()
    expect(page).to_have_url(re.compile(rf"/upgrades/sites/{site.pk}/#move$"))
    assert not ProductMigration.objects.exists()

    page.get_by_label("New product").select_option("bitbucket-server")
    page.get_by_label("Its version").fill("4.0")
    page.get_by_role("button", name="Move site").click()
    page.get_by_role("button", name="Switch 2 apps off and move to Bitbucket Server").click()
    expect(page).to_have_url(re.compile(rf"/upgrades/sites/{site.pk}/migrations/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("moved to Bitbucket Server 4.0")
    expect(page.locator(".why-not")).to_contain_text(
        "2.0.0-bitbucket sorts below the installed 2.0.0: a pre-release is lower than its release; "
        "ask the vendor for 2.0.1-bitbucket or higher"
    )
    assert Installation.objects.get(pk=hooks_inst.pk).state == "deactivated"

    page.get_by_role("button", name="Upgrade to 1.3.0").click()
    expect(page.get_by_role("status").first).to_contain_text("Repository Hooks is on 1.3.0 and switched on again")
    expect(page.get_by_role("button", name="Upgrade to 1.3.0")).to_have_count(0)
    expect(page.locator('tr[data-state="accepted"]')).to_contain_text("upgraded to 1.3.0")
    installation = Installation.objects.get(pk=hooks_inst.pk)
    assert (installation.version, installation.state) == (hooks_new, "active")
    assert Installation.objects.get(pk=guard_inst.pk).state == "deactivated"
