"""Release controls (issue #16 items 2 and 4) through the portal pages and the API."""

from datetime import UTC, timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Profile
from core.models import AuditEvent
from tests.factories import ListingFactory, MembershipFactory, VersionFactory, verified
from versions.models import State, Version, VersionTransition

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    member = MembershipFactory(role="owner")
    verified(member.user)
    return member


@pytest.fixture
def listing(owner):
    return ListingFactory(vendor=owner.vendor)


@pytest.fixture
def browser(owner):
    client = Client()
    client.force_login(owner.user)
    return client


@pytest.fixture
def api(owner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner.user).key}")
    return client


@pytest.fixture
def old_and_live(listing):
    old = VersionFactory(listing=listing, number="1.0.0", state="superseded", update_notes="The good one.")
    live = VersionFactory(listing=listing, number="1.1.0", state="published")
    for v in (old, live):
        VersionTransition.objects.create(version=v, name="approve", from_state="in_review", to_state="approved")
    return old, live


def test_version_page_offers_re_release_of_a_superseded_version(browser, old_and_live):
    old, live = old_and_live
    page = unescape(browser.get(f"/portal/versions/{old.pk}/").content.decode())
    assert f"/portal/versions/{old.pk}/rerelease/" in page
    page = unescape(browser.get(f"/portal/versions/{live.pk}/").content.decode())
    assert "/rerelease/" not in page


def test_re_release_page_shows_the_plan_and_makes_the_version(browser, old_and_live, listing):
    old, _ = old_and_live
    page = unescape(browser.get(f"/portal/versions/{old.pk}/rerelease/").content.decode())
    assert "1.1.1" in page and "No review needed" in page
    r = browser.post(f"/portal/versions/{old.pk}/rerelease/", {"update_notes": "", "publish": "on"})
    copy = Version.objects.get(listing=listing, number="1.1.1")
    assert r.status_code == 302 and r["Location"] == f"/portal/versions/{copy.pk}/"
    assert copy.state == State.PUBLISHED and copy.rereleased_from == old
    assert copy.update_notes == "Re-release of 1.0.0: The good one."
    page = unescape(browser.get(f"/portal/versions/{copy.pk}/").content.decode())
    assert "A re-release of" in page and f"/portal/versions/{old.pk}/" in page


def test_re_release_refused_shows_the_message_next_to_the_field(browser, old_and_live, listing):
    old, _ = old_and_live
    r = browser.post(f"/portal/versions/{old.pk}/rerelease/", {"update_notes": "x" * 501})
    assert r.status_code == 200
    assert "at most 500 characters" in unescape(r.content.decode())
    assert not Version.objects.filter(listing=listing, number="1.1.1").exists()


def test_schedule_page_reads_the_time_in_the_chosen_zone(browser, listing, owner):
    Profile.objects.update_or_create(user=owner.user, defaults={"time_zone": "Asia/Tokyo"})
    approved = VersionFactory(listing=listing, number="1.0.0", state="approved")
    page = browser.get(f"/portal/versions/{approved.pk}/schedule/").content.decode()
    assert 'value="Asia/Tokyo" selected' in page  # the profile's zone is the default
    local = (timezone.now() + timedelta(days=2)).astimezone(timezone.get_fixed_timezone(9 * 60)).replace(tzinfo=None)
    text = local.strftime("%Y-%m-%dT%H:%M")
    r = browser.post(f"/portal/versions/{approved.pk}/schedule/", {"publish_at": text, "time_zone": "Asia/Tokyo"})
    assert r.status_code == 302
    approved.refresh_from_db()
    assert approved.publish_time_zone == "Asia/Tokyo"
    assert approved.publish_at == (local - timedelta(hours=9)).replace(second=0, microsecond=0, tzinfo=UTC)
    page = unescape(browser.get(f"/portal/versions/{approved.pk}/").content.decode())
    assert f"{local:%Y-%m-%d %H:%M} (Asia/Tokyo)" in page
    r = browser.post(f"/portal/versions/{approved.pk}/unschedule/")
    approved.refresh_from_db()
    assert r.status_code == 302 and approved.publish_at is None


def test_schedule_in_the_past_is_shown_next_to_the_field(browser, listing):
    approved = VersionFactory(listing=listing, number="1.0.0", state="approved")
    r = browser.post(
        f"/portal/versions/{approved.pk}/schedule/", {"publish_at": "2020-01-01T10:00", "time_zone": "UTC"}
    )
    assert r.status_code == 200
    assert "must be in the future" in unescape(r.content.decode())
    approved.refresh_from_db()
    assert approved.publish_at is None


def test_api_re_release_and_schedule(api, old_and_live, listing):
    old, _ = old_and_live
    r = api.post(f"/api/v1/versions/{old.pk}/rerelease", {"publish": False}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["number"] == "1.1.1" and body["state"] == "approved" and body["rereleased_from"] == old.pk
    at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    r = api.put(f"/api/v1/versions/{body['id']}/schedule", {"publish_at": at.isoformat()}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["publish_at"] is not None
    assert Version.objects.get(pk=body["id"]).publish_at == at
    r = api.put(f"/api/v1/versions/{body['id']}/schedule", {"publish_at": "tomorrow"}, format="json")
    assert r.status_code == 400 and "publish_at" in str(r.json())
    r = api.delete(f"/api/v1/versions/{body['id']}/schedule")
    assert r.status_code == 200 and r.json()["publish_at"] is None
    assert AuditEvent.objects.filter(action="version.unschedule_publish").count() == 1


def test_api_refuses_re_release_of_the_live_version_and_others_versions(api, old_and_live):
    _, live = old_and_live
    r = api.post(f"/api/v1/versions/{live.pk}/rerelease", {}, format="json")
    assert r.status_code == 409
    foreign = VersionFactory(number="1.0.0", state="superseded")
    r = api.post(f"/api/v1/versions/{foreign.pk}/rerelease", {}, format="json")
    assert r.status_code == 404
    assert not Version.objects.filter(rereleased_from__isnull=False).exists()
