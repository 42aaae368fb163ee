"""The vendor's analytics: daily installs, uninstalls and active installations derived from the
audit rows, versions over time from applied upgrades, consent rates; the page and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from tests.core.test_openapi import assert_matches_schema
from tests.factories import UserFactory
from upgrades.models import UpgradeRequest
from upgrades.selectors.analytics import listing_analytics, listing_versions_over_time
from upgrades.services.consent import upgrade_request_approve, upgrade_request_reject
from upgrades.services.installs import installation_uninstall

pytestmark = pytest.mark.django_db


def _installed_days_ago(world, days):
    """Move the world's install rows back in time, as if the three sites installed `days` ago."""
    ids = [i.pk for i in world.installations]
    AuditEvent.objects.filter(action="installation.install", object_id__in=ids).update(
        at=timezone.now() - timedelta(days=days)
    )


def test_daily_numbers_walk_back_from_todays_installations(world):
    _installed_days_ago(world, 10)
    first = world.installations[0]
    AuditEvent.objects.filter(action="installation.install", object_id=first.pk).update(at=timezone.now())
    installation_uninstall(site_id=first.site_id, installation_id=first.pk, actor=world.admins[0].user)

    data = listing_analytics(listing=world.listing)
    daily = data["daily"]
    assert len(daily) == 90 and daily[-1]["date"] == timezone.localdate()
    today, ten_days_ago = daily[-1], daily[-11]
    assert (today["installs"], today["uninstalls"], today["active"]) == (1, 1, 2)
    assert (ten_days_ago["installs"], ten_days_ago["active"]) == (2, 2)
    assert daily[-12]["active"] == 0 and all(r["active"] == 2 for r in daily[-11:-1])
    assert data["totals"] == {"installs": 3, "uninstalls": 1, "active": 2}


def test_versions_over_time_follow_applied_upgrades(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    _installed_days_ago(world, 5)
    requests = list(UpgradeRequest.objects.filter(installation__listing=world.listing).order_by("pk"))
    upgrade_request_approve(request_id=requests[0].pk, actor=world.admins[0].user)

    history = listing_versions_over_time(listing=world.listing)
    counts = {v["number"]: v["counts"] for v in history["versions"]}
    assert [v["number"] for v in history["versions"]] == ["1.0.0", "1.1.0"]
    assert counts["1.0.0"][-1] == 2 and counts["1.1.0"][-1] == 1  # today
    assert counts["1.0.0"][-2] == 3 and counts["1.1.0"][-2] == 0  # yesterday
    assert counts["1.0.0"][-6] == 3 and counts["1.0.0"][-7] == 0  # installed five days ago

    upgrade_request_reject(request_id=requests[1].pk, actor=world.admins[1].user)
    consent = listing_analytics(listing=world.listing)["consent"]
    assert (consent["requested"], consent["approved"], consent["rejected"], consent["pending"]) == (3, 1, 1, 1)
    assert consent["approval_rate"] == 50.0 and consent["rejection_rate"] == 50.0


def test_analytics_page_draws_svg_charts(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    client = Client()
    client.force_login(world.vendor_user)
    response = client.get(f"/portal/listings/{world.listing.key}/analytics/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg class="chart"') == 2  # installs per day, versions over time
    assert '<dd data-figure="active">3</dd>' in html
    assert "Still waiting</dt><dd>3</dd>" in html
    assert "<script" not in html.split("<main")[1].split("</main>")[0]  # no JavaScript needed

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/portal/listings/{world.listing.key}/analytics/").status_code == 404


def test_analytics_api_is_the_vendors_and_says_the_same(world):
    client = Client()
    client.force_login(world.vendor_user)
    response = client.get(f"/api/v1/listings/{world.listing.key}/analytics")
    assert response.status_code == 200
    body = response.json()
    assert body["listing"] == world.listing.key and body["days"] == 90 and len(body["daily"]) == 90
    assert body["daily"][-1] == {"date": timezone.localdate().isoformat(), "installs": 3, "uninstalls": 0, "active": 3}
    assert body["versions_in_use"] == [{"number": "1.0.0", "installations": 3, "percent": 100.0}]
    assert body["versions_over_time"][0]["number"] == "1.0.0" and body["versions_over_time"][0]["counts"][-1] == 3
    assert body["consent"]["approval_rate"] is None
    assert_matches_schema(response, "/api/v1/listings/{key}/analytics")  # documented in OpenAPI, no extra key

    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/api/v1/listings/{world.listing.key}/analytics").status_code == 404


def test_analytics_queries_do_not_grow_with_installations(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        listing_analytics(listing=world.listing)
        listing_versions_over_time(listing=world.listing)
