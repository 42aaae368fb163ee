"""Webhooks and callbacks through the real parts: a Celery worker process on Redis, PostgreSQL and an
app server on 127.0.0.1 that verifies every signature and fails on purpose at first."""

from __future__ import annotations

import json

import pytest

from tests.integration.processes import wait_until
from tests.upgrades.world import make_world
from upgrades import services
from upgrades.models import Delivery, DeliveryAttempt


@pytest.fixture
def quick_retries(monkeypatch):
    """The worker's retries a second apart instead of minutes (its settings come from the environment)."""
    monkeypatch.setenv("DELIVERY_RETRY_BASE_SECONDS", "0.5")


def test_publishing_fires_a_signed_version_published_retried_by_the_worker_until_it_succeeds(
    quick_retries, celery_worker_process, app_server
):
    world = make_world(sites=1)
    _, secret = services.webhook_endpoint_create(
        listing=world.listing, actor=world.vendor_user, url=app_server.url("/hooks"), events=["version.published"]
    )
    app_server.webhook_secret = secret
    app_server.fail_first["/hooks"] = 2
    version = world.publish("1.0.1")  # commits: the worker starts the rollout and sends the webhook

    def delivered():
        return Delivery.objects.filter(event="version.published", state="succeeded").first()

    delivery = wait_until(delivered, timeout=60)
    assert delivery is not None, "the worker did not deliver version.published"
    assert delivery.attempts == 3
    assert list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [
        500,
        500,
        200,
    ]
    calls = app_server.hits("/hooks")
    assert len(calls) == 3 and all(c["verified"] for c in calls), [c["problem"] for c in calls]
    body = json.loads(calls[-1]["body"])
    assert body["type"] == "version.published" and body["data"]["versionId"] == version.pk
    assert {c["headers"]["webhook-id"] for c in calls} == {str(delivery.delivery_id)}
