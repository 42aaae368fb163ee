"""Staged rollouts on the vendor's pages and in the API (issue #16, item 1)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.models import AuditEvent
from tests.factories import MembershipFactory, VersionFactory
from tests.upgrades.world import make_world
from upgrades.models import Rollout
from versions.models import StagePlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_world(catalogue):
    return make_world(sites=6)


def test_vendor_publishes_in_stages_and_advances_from_the_pages(big_world, django_capture_on_commit_callbacks):
    version = VersionFactory(listing=big_world.listing, number="1.0.1", scopes=["read:jira-work"], state="approved")
    client = Client()
    client.force_login(big_world.vendor_user)
    page = client.get(f"/portal/versions/{version.pk}/").content.decode()
    assert "Publish in stages" in page and 'value="1, 5, 20, 50, 100"' in page
    # A bad plan: nothing is published and the message names the rule.
    response = client.post(f"/portal/versions/{version.pk}/publish-in-stages/", {"stages": "50, 20, 100"}, follow=True)
    html = response.content.decode()
    assert "larger than the one before" in html and 'id="id_stages_error"' in html  # beside its field
    assert not StagePlan.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/portal/versions/{version.pk}/publish-in-stages/",
            {"stages": "10, 50, 100", "advance_every_hours": "", "halt_failure_percent": "20"},
        )
    assert response.url == f"/upgrades/listings/{big_world.listing.key}/rollouts/"
    html = client.get(response.url).content.decode()
    assert "Stage 1 of 3: 10 % of installations" in html and "halts by itself at 20 %" in html
    assert "Advance to the next stage" in html
    rollout = Rollout.objects.get(version=version)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/upgrades/rollouts/{rollout.pk}/advance/", follow=True)
    assert "Stage 2 of 3: 50 % of installations" in response.content.decode()
    assert AuditEvent.objects.filter(action="rollout.stage_advance", object_id=str(rollout.pk)).count() == 1


def test_api_publishes_in_stages_and_advances(big_world, django_capture_on_commit_callbacks):
    version = VersionFactory(listing=big_world.listing, number="1.0.1", scopes=["read:jira-work"], state="approved")
    client = APIClient()
    client.force_authenticate(big_world.vendor_user)
    response = client.post(
        f"/api/v1/versions/{version.pk}/publish-in-stages",
        {"stages": [5, 100], "halt_failure_percent": 0},
        format="json",
    )
    assert response.status_code == 400 and response.json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/versions/{version.pk}/publish-in-stages",
            {"stages": [5, 50, 100], "advance_every_hours": 12},
            format="json",
        )
    assert response.status_code == 200 and response.json()["state"] == "published"
    rollout = Rollout.objects.get(version=version)
    stranger = APIClient()
    stranger.force_authenticate(MembershipFactory(role="owner").user)
    assert stranger.post(f"/api/v1/rollouts/{rollout.pk}/advance").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/rollouts/{rollout.pk}/advance")
    assert response.status_code == 200
    assert response.json()["stage"] == 2 and response.json()["stage_percent"] == 50
    assert response.json()["stages"] == [5, 50, 100]


def test_the_listing_rollouts_api_says_where_a_staged_rollout_is(big_world, django_capture_on_commit_callbacks):
    version = VersionFactory(listing=big_world.listing, number="1.0.1", scopes=["read:jira-work"], state="approved")
    client = APIClient()
    client.force_authenticate(big_world.vendor_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/api/v1/versions/{version.pk}/publish-in-stages",
            {"stages": [5, 50, 100], "halt_failure_percent": 10},
            format="json",
        )
    [rollout] = client.get(f"/api/v1/listings/{big_world.listing.key}/rollouts").json()["rollouts"]
    assert rollout["staged"]["stages"] == [5, 50, 100] and rollout["staged"]["stage"] == 1
    assert rollout["staged"]["percent"] == 5 and rollout["staged"]["halt_failure_percent"] == 10
