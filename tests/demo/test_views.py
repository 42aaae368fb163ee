"""The demo app (development only) receives real callbacks from the portal's worker code over HTTP
(live_server on 127.0.0.1), keeps the shared secret from `installed`, verifies every JWT and
webhook signature, and the delivery log records its answers."""

from __future__ import annotations

import json

import pytest

from tests.factories import HostProductFactory, ListingFactory, MembershipFactory, SiteFactory, VersionFactory
from upgrades import services
from upgrades.models import Delivery


@pytest.fixture
def dev(settings, tmp_path):
    settings.DEBUG = True
    settings.DESCRIPTOR_ALLOW_LOOPBACK = True
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_demo_app_verifies_callbacks_and_webhooks_end_to_end(transactional_db, live_server, dev):
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, key="demo-app")
    listing.lifecycle_urls = {e: f"{live_server.url}/demo/apps/demo-app/{e}" for e in ("installed", "disabled")}
    listing.save()
    version = VersionFactory(listing=listing, number="1.0.0", state="published")
    services.webhook_endpoint_create(
        listing=listing,
        actor=membership.user,
        url=f"{live_server.url}/demo/webhooks/demo-app",
        events=["installation.installed"],
    )
    installation = services.installation_create(
        site=SiteFactory(host_product=HostProductFactory()), listing=listing, version=version
    )
    services.lifecycle_event_enqueue(installation=installation, event="disabled")

    deliveries = {d.event: d for d in Delivery.objects.all()}
    assert set(deliveries) == {"installed", "disabled", "installation.installed"}
    for delivery in deliveries.values():
        assert (delivery.state, delivery.last_status) == ("succeeded", 200), delivery.last_response
        assert json.loads(delivery.last_response)["verified"] is True
    calls = [json.loads(line) for line in (dev / "demo" / "receiver" / "calls.jsonl").read_text().splitlines()]
    assert len(calls) == 3 and all(c["verified"] for c in calls)


def test_demo_app_refuses_unsigned_calls_and_is_off_outside_development(client, dev, db, settings):
    answer = client.post(
        "/demo/apps/x/disabled", data=json.dumps({"clientKey": "site-1"}), content_type="application/json"
    )
    assert answer.status_code == 401 and "no JWT" in answer.json()["problem"]
    settings.DEBUG = False
    assert client.post("/demo/apps/x/disabled", data="{}", content_type="application/json").status_code == 404
