"""App groups (bundle scheme): updatable when a component differs; the update lists the components."""

import pytest

from tests.factories import VersionFactory
from tests.upgrades.world import make_world
from upgrades.models import Installation, UpgradeRequest
from upgrades.selectors import site_updates
from versions.policies import component_changes, upgrade_requires_consent
from versions.services.bundles import bundle_share


def test_component_changes_lists_added_changed_and_removed():
    before = [{"name": "api", "version": "1"}, {"name": "ui", "version": "5.2"}, {"name": "old", "version": "x"}]
    after = [{"name": "api", "version": "1"}, {"name": "ui", "version": "5.3"}, {"name": "worker", "version": "2"}]
    assert component_changes(before, after) == [
        {"name": "old", "from": "x", "to": None},
        {"name": "ui", "from": "5.2", "to": "5.3"},
        {"name": "worker", "from": None, "to": "2"},
    ]
    assert component_changes(after, list(reversed(after))) == []


def test_bundles_never_ask_for_consent():
    old = {"number": "1.0.0", "scopes": [], "pricing": "free"}
    new = {"number": "2.0.0", "scopes": ["admin"], "pricing": "paid"}
    assert upgrade_requires_consent(old, new, "bundle") == []


@pytest.mark.django_db
def test_a_share_upgrades_sites_whose_components_differ_and_lists_them(catalogue, django_capture_on_commit_callbacks):
    world = make_world(scheme="bundle", sites=2)
    listing, owner, site = world.listing, world.vendor_user, world.sites[0]
    components = [{"name": "api", "version": "1"}, {"name": "ui", "version": "5.2"}]
    with django_capture_on_commit_callbacks(execute=True):
        shared, changes = bundle_share(listing=listing, actor=owner, major=1, components=components)
    assert changes and shared.number == "1.1.0"
    # The rollout upgraded every installation, nobody was asked.
    assert set(Installation.objects.filter(listing=listing).values_list("version__number", flat=True)) == {"1.1.0"}
    assert not UpgradeRequest.objects.exists()
    assert site_updates(site=site)["updates_available"] == 0
    # A newer share changes one component: the update check names exactly that one.
    with django_capture_on_commit_callbacks(execute=False):  # keep the rollout from applying it
        newer, _ = bundle_share(
            listing=listing, actor=owner, major=1, components=[{"name": "api", "version": "2"}, components[1]]
        )
    item = site_updates(site=site)["items"][0]
    assert item["update"]["number"] == newer.number == "1.2.0"
    assert not item["update"]["consent_required"]
    assert item["update"]["components"] == [{"name": "api", "from": "1", "to": "2"}]


@pytest.mark.django_db
def test_a_newer_bundle_with_the_same_components_is_not_offered(catalogue):
    world = make_world(scheme="bundle", sites=1)
    site, v1 = world.sites[0], world.v1
    v1.__class__.objects.filter(pk=v1.pk).update(state="superseded")
    same = VersionFactory(listing=world.listing, number="1.1.0", state="published", components=v1.components)
    assert same.components == v1.components == []
    assert site_updates(site=site)["updates_available"] == 0
