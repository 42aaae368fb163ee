"""Yank (issue #16, item 3): a yanked version is offered to nobody and installable by nobody;
its users are offered a way off it (even a lower version) that says why; un-yank; every change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from core.models import AuditEvent
from tests.factories import (
    MembershipFactory,
    SiteAdminFactory,
    SiteFactory,
    UserFactory,
    VersionFactory,
)
from upgrades import services
from upgrades.models import Installation, Rollout, Upgrade, UpgradeRequest
from upgrades.selectors import site_updates
from versions import policies
from versions.models import Version, VersionYank
from versions.services.yanks import version_unyank, version_yank

pytestmark = pytest.mark.django_db


def _item(site):
    [item] = site_updates(site=site)["items"]
    return item


def test_a_yank_needs_a_reason_and_a_released_version(world):
    with pytest.raises(ApplicationError) as exc:
        version_yank(version=world.v1, actor=world.vendor_user, reason="  ")
    assert exc.value.field == "reason"
    draft = VersionFactory(listing=world.listing, number="2.0.0", state="draft")
    with pytest.raises(TransitionNotAllowed):
        version_yank(version=draft, actor=world.vendor_user, reason="broken")
    stranger = MembershipFactory(role="owner").user
    with pytest.raises(NotFound):
        version_yank(version=world.v1, actor=stranger, reason="broken")
    assert not VersionYank.objects.exists() and not AuditEvent.objects.filter(action="version.yank").exists()


def test_a_yanked_version_is_offered_to_nobody_and_its_rollout_halts(
    world, django_capture_on_commit_callbacks, settings
):
    settings.UPGRADE_AUTO_WINDOW = timedelta(hours=24)  # the rollout's upgrades stay scheduled
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.0.1")
    assert Upgrade.objects.filter(to_version=v2, state="scheduled").count() == 3
    assert _item(world.sites[0])["update"]["number"] == "1.0.1"
    touched = Version.objects.get(pk=v2.pk).updated_at
    with django_capture_on_commit_callbacks(execute=True):
        version_yank(version=v2, actor=world.vendor_user, reason="Corrupts boards on save.")
    assert _item(world.sites[0])["update"] is None  # offered to nobody
    assert set(Upgrade.objects.filter(to_version=v2).values_list("state", flat=True)) == {"superseded"}
    assert Version.objects.get(pk=v2.pk).updated_at > touched
    event = AuditEvent.objects.get(action="version.yank")
    assert (event.from_state, event.to_state, event.details["reason"]) == (
        "released",
        "yanked",
        "Corrupts boards on save.",
    )
    assert event.actor_id == world.vendor_user.pk


def test_a_staged_rollout_of_a_yanked_version_halts_and_stays_halted(world, django_capture_on_commit_callbacks):
    from versions.services.stages import version_publish_in_stages

    version = VersionFactory(listing=world.listing, number="1.0.1", scopes=list(world.v1.scopes), state="approved")
    with django_capture_on_commit_callbacks(execute=True):
        version_publish_in_stages(version=version, actor=world.vendor_user, stages=[1, 100])
    rollout = Rollout.objects.get(version=version)
    assert rollout.state == "running"
    with django_capture_on_commit_callbacks(execute=True):
        version_yank(version=version, actor=world.vendor_user, reason="Corrupts boards on save.")
    rollout.refresh_from_db()
    assert rollout.state == "halted" and "was yanked" in rollout.halt_reason
    assert AuditEvent.objects.get(action="rollout.halt", object_id=str(rollout.pk)).actor_id is None
    # Resumed by mistake, its next chunk halts it again and offers nothing.
    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_resume(rollout=rollout, actor=world.vendor_user)
    rollout.refresh_from_db()
    assert rollout.state == "halted" and not Upgrade.objects.filter(to_version=version, state="scheduled").exists()


def test_pending_consent_requests_to_a_yanked_version_close(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    assert UpgradeRequest.objects.filter(to_version=v2, state="pending").count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        version_yank(version=v2, actor=world.vendor_user, reason="wrong scopes")
    assert set(UpgradeRequest.objects.filter(to_version=v2).values_list("state", flat=True)) == {"superseded"}


def test_its_users_are_offered_a_lower_version_that_says_why(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.1.0")
    site = world.sites[0]
    assert Installation.objects.get(site=site).version_id == v2.pk
    with django_capture_on_commit_callbacks(execute=True):
        version_yank(version=v2, actor=world.vendor_user, reason="Corrupts boards on save.")
    item = _item(site)
    assert item["installed"]["yanked_reason"] == "Corrupts boards on save."
    update = item["update"]
    assert update["number"] == "1.0.0"  # lower: the newest released version that is not yanked
    assert update["move_off"]["code"] == policies.VERSION_YANKED
    assert "back to 1.0.0" in update["move_off"]["message"] and "Corrupts boards" in update["move_off"]["message"]
    # The site's admin moves off with the ordinary Upgrade button.
    admin = world.admins[0].user  # the admin of sites[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.installation_upgrade(site_id=site.pk, installation_id=item["installation"], actor=admin)
    assert Installation.objects.get(site=site).version.number == "1.0.0"
    assert _item(site)["update"] is None


def test_the_update_check_api_and_the_site_page_show_the_reason(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.1.0")
    with django_capture_on_commit_callbacks(execute=True):
        version_yank(version=v2, actor=world.vendor_user, reason="Corrupts boards on save.")
    site = world.sites[0]
    _, raw = services.site_token_create(site=site, name="instance")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    [item] = api.get(f"/api/v1/sites/{site.pk}/updates").json()["items"]
    assert item["installed"]["yanked_reason"] == "Corrupts boards on save."
    assert item["update"]["move_off"]["code"] == "version_yanked" and item["update"]["number"] == "1.0.0"
    page = Client()
    page.force_login(world.admins[0].user)
    html = page.get(f"/upgrades/sites/{site.pk}/").content.decode()
    assert "Withdrawn by its vendor" in html and "Corrupts boards on save." in html and "back to 1.0.0" in html
    assert "Move to 1.0.0" in html  # the button says where it goes


def test_nobody_installs_a_yanked_version_from_the_storefront(world, django_capture_on_commit_callbacks):
    version_yank(version=world.v1, actor=world.vendor_user, reason="broken")
    site = SiteFactory(host_product=world.sites[0].host_product)
    admin = UserFactory()
    SiteAdminFactory(site=site, user=admin, email=admin.email)
    with pytest.raises(ApplicationError) as exc:
        services.installation_install(site_id=site.pk, listing_key=world.listing.key, actor=admin)
    assert exc.value.field == "listing"
    assert not Installation.objects.filter(site=site).exists()
    version_unyank(version=world.v1, actor=world.vendor_user)
    with django_capture_on_commit_callbacks(execute=True):
        installation = services.installation_install(site_id=site.pk, listing_key=world.listing.key, actor=admin)
    assert installation.version_id == world.v1.pk


def test_unyank_offers_it_again_and_is_audited(world, django_capture_on_commit_callbacks):
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")
    v2 = VersionFactory(listing=world.listing, number="1.0.1", state="published")
    version_yank(version=v2, actor=world.vendor_user, reason="oops")
    assert _item(world.sites[0])["update"] is None
    with pytest.raises(TransitionNotAllowed):
        version_yank(version=v2, actor=world.vendor_user, reason="again")
    version_unyank(version=v2, actor=world.vendor_user)
    assert _item(world.sites[0])["update"]["number"] == "1.0.1"
    event = AuditEvent.objects.get(action="version.unyank")
    assert (event.from_state, event.to_state, event.details["reason_was"]) == ("yanked", "released", "oops")
    with pytest.raises(TransitionNotAllowed):
        version_unyank(version=v2, actor=world.vendor_user)


def test_staff_yank_through_the_admin_action(world):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    url = "/admin/versions/version/"
    response = client.post(
        url, {"action": "yank_selected", "_selected_action": [world.v1.pk], "reason": ""}, follow=True
    )
    assert "Say why" in response.content.decode() and not VersionYank.objects.exists()
    client.post(url, {"action": "yank_selected", "_selected_action": [world.v1.pk], "reason": "security hole"})
    assert VersionYank.objects.get(version=world.v1).reason == "security hole"
    assert AuditEvent.objects.get(action="version.yank").actor_id == staff.pk
    client.post(url, {"action": "unyank_selected", "_selected_action": [world.v1.pk], "reason": ""})
    assert not VersionYank.objects.exists()


def test_vendor_api_yanks_and_unyanks_and_names_the_missing_reason(world):
    client = APIClient()
    client.force_authenticate(world.vendor_user)
    response = client.post(f"/api/v1/versions/{world.v1.pk}/yank", {}, format="json")
    assert response.status_code == 400 and "reason" in str(response.json())
    response = client.post(f"/api/v1/versions/{world.v1.pk}/yank", {"reason": "broken"}, format="json")
    assert response.status_code == 200 and response.json()["yanked"] is True
    assert response.json()["reason"] == "broken"
    response = client.post(f"/api/v1/versions/{world.v1.pk}/unyank", format="json")
    assert response.status_code == 200 and response.json()["yanked"] is False
    other = APIClient()
    other.force_authenticate(MembershipFactory(role="owner").user)
    assert other.post(f"/api/v1/versions/{world.v1.pk}/yank", {"reason": "x"}, format="json").status_code == 404


def test_vendor_portal_buttons(world):
    client = Client()
    client.force_login(world.vendor_user)
    page = client.get(f"/portal/versions/{world.v1.pk}/").content.decode()
    assert "Yank 1.0.0" in page and "data-confirm" in page
    response = client.post(f"/portal/versions/{world.v1.pk}/yank/", {"reason": ""}, follow=True)
    assert 'id="id_reason_error"' in response.content.decode() and not VersionYank.objects.exists()
    response = client.post(f"/portal/versions/{world.v1.pk}/yank/", {"reason": "Leaks tokens."}, follow=True)
    html = response.content.decode()
    assert "is yanked" in html and "Leaks tokens." in html and "Un-yank" in html
    client.post(f"/portal/versions/{world.v1.pk}/unyank/")
    assert not VersionYank.objects.exists()


def test_the_way_off_respects_a_staged_rollout(catalogue, django_capture_on_commit_callbacks):
    from tests.upgrades.world import make_world
    from versions.services.stages import version_publish_in_stages

    world = make_world(sites=10)
    with django_capture_on_commit_callbacks(execute=True):
        v101 = world.publish("1.0.1")
    with django_capture_on_commit_callbacks(execute=True):
        version_yank(version=v101, actor=world.vendor_user, reason="drops columns")
    v110 = VersionFactory(listing=world.listing, number="1.1.0", scopes=list(world.v1.scopes), state="approved")
    with django_capture_on_commit_callbacks(execute=True):
        version_publish_in_stages(version=v110, actor=world.vendor_user, stages=[40, 100])
    limit = policies.stage_bucket_limit(40)
    for installation in Installation.objects.filter(listing=world.listing).select_related("site"):
        update = _item(installation.site)["update"]
        if installation.version_id == v110.pk:
            assert update is None  # its stage came and it moved
            continue
        assert installation.version_id == v101.pk
        assert not policies.stage_reached(installation.pk, v110.pk, limit)
        assert update["number"] == "1.0.0" and update["move_off"]["code"] == "version_yanked"
    assert Installation.objects.filter(version=v110).exists()
