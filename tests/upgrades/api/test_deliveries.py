"""The webhooks and deliveries API: one error shape, secrets in creation and rotation answers only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.upgrades.world import make_world

pytestmark = pytest.mark.django_db


def test_manage_endpoints_and_list_deliveries(catalogue, app_server, django_capture_on_commit_callbacks):
    world = make_world(sites=0)
    client = APIClient()
    client.force_authenticate(world.vendor_user)
    base = f"/api/v1/listings/{world.listing.key}"
    created = client.post(
        f"{base}/webhooks", {"url": app_server.url("/hooks"), "events": ["rollout.halted"]}, format="json"
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    app_server.webhook_secret = created.json()["secret"]
    pk = created.json()["id"]
    listed = client.get(f"{base}/webhooks").json()
    assert [e["id"] for e in listed["results"]] == [pk] and "secret" not in listed["results"][0]
    with django_capture_on_commit_callbacks(execute=True):
        test = client.post(f"/api/v1/webhooks/{pk}/test")
    assert test.status_code == 202
    deliveries = client.get(f"{base}/deliveries").json()["results"]
    assert deliveries[0]["event"] == "webhook.test" and deliveries[0]["state"] == "succeeded"
    assert client.get(f"{base}/deliveries?state=failed").json()["results"] == []
    detail = client.get(f"/api/v1/deliveries/{deliveries[0]['id']}").json()
    assert detail["attempt_log"][0]["status_code"] == 200 and app_server.calls[0]["verified"]
    rotated = client.post(f"/api/v1/webhooks/{pk}/rotate-secret").json()
    assert rotated["secret"] != created.json()["secret"] and rotated["previous_secret_expires_at"]
    bad = client.put(f"/api/v1/webhooks/{pk}", {"url": "http://10.0.0.1/", "events": ["rollout.halted"]}, format="json")
    assert bad.status_code == 400 and "url" in bad.json()
    deleted = client.delete(f"/api/v1/webhooks/{pk}")
    assert deleted.status_code == 200 and deleted.json()["id"] == pk
    assert client.get(f"{base}/deliveries").json()["results"][0]["endpoint"] is None


def test_other_vendors_get_404(catalogue):
    world = make_world(sites=0)
    client = APIClient()
    client.force_authenticate(UserFactory())
    base = f"/api/v1/listings/{world.listing.key}"
    assert client.get(f"{base}/webhooks").status_code == 404
    assert (
        client.post(f"{base}/webhooks", {"url": "https://x.example.com", "events": []}, format="json").status_code
        == 404
    )
    assert client.get(f"{base}/deliveries").status_code == 404
