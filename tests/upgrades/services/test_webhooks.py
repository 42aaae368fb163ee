"""Vendor webhooks: registered endpoints, Standard Webhooks signatures checked by a real server on
127.0.0.1 (tests/http_servers.AppServer), test events, redelivery and secret rotation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditEvent
from tests.upgrades.world import make_world, publish
from upgrades import services
from upgrades.models import Delivery, UpgradeRequest

pytestmark = pytest.mark.django_db


def register(world, app_server, events, capture=None):
    endpoint, secret = services.webhook_endpoint_create(
        listing=world.listing, actor=world.vendor_user, url=app_server.url("/hooks"), events=events
    )
    app_server.webhook_secret = secret
    return endpoint, secret


def test_publishing_a_version_fires_version_published_signed_to_the_subscribed_endpoint_only(
    catalogue, app_server, django_capture_on_commit_callbacks
):
    world = make_world(sites=1)
    endpoint, secret = register(world, app_server, ["version.published"])
    services.webhook_endpoint_create(
        listing=world.listing, actor=world.vendor_user, url=app_server.url("/other"), events=["rollout.halted"]
    )
    assert secret.startswith("whsec_")
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)

    [call] = app_server.hits("/hooks")
    assert call["verified"], call["problem"]
    body = json.loads(call["body"])
    assert body["type"] == "version.published" and body["data"]["version"] == "1.0.1"
    assert body["data"]["versionId"] == v2.pk
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert call["headers"]["webhook-id"] == str(delivery.delivery_id)
    assert (delivery.state, delivery.last_status) == ("succeeded", 200)
    assert not app_server.hits("/other")
    # The task running twice sends nothing twice.
    from upgrades.services.webhooks import webhook_version_event

    assert webhook_version_event(version_id=v2.pk, event="version.published") == []


def test_endpoint_input_is_checked_field_by_field(catalogue, settings):
    settings.DESCRIPTOR_ALLOW_LOOPBACK = False
    world = make_world(sites=0)
    cases = [
        ("ftp://hooks.example.com/x", ["version.published"], "url", "Only http and https"),
        ("http://10.0.0.7/hooks", ["version.published"], "url", "private address"),
        ("http://127.0.0.1:9/hooks", ["version.published"], "url", "loopback"),
        ("https://user:pw@hooks.example.com/", ["version.published"], "url", "user name or password"),
        ("", ["version.published"], "url", "Enter the URL"),
        ("https://hooks.example.com/", [], "events", "at least one event"),
        ("https://hooks.example.com/", ["version.exploded"], "events", "Unknown event"),
    ]
    for url, events, field, message in cases:
        with pytest.raises(ApplicationError) as exc:
            services.webhook_endpoint_create(listing=world.listing, actor=world.vendor_user, url=url, events=events)
        assert exc.value.field == field and message in exc.value.message, (url, exc.value.message)
    assert not world.listing.webhook_endpoints.exists()


def test_another_vendor_cannot_register_on_a_listing(catalogue, vendor_user):
    world = make_world(sites=0)
    with pytest.raises(ApplicationError):
        services.webhook_endpoint_create(
            listing=world.listing, actor=vendor_user, url="https://hooks.example.com/", events=["version.published"]
        )


def test_test_event_failures_and_redelivery(catalogue, app_server, django_capture_on_commit_callbacks):
    world = make_world(sites=0)
    endpoint, _ = register(world, app_server, ["rollout.completed"])
    app_server.fail_first["/hooks"] = 6
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.webhook_endpoint_send_test(endpoint=endpoint, actor=world.vendor_user)
    for step in range(1, 8):
        services.delivery_send(delivery_pk=delivery.pk, now=timezone.now() + timedelta(hours=step))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.event) == ("failed", 6, "webhook.test")
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_redeliver(delivery=delivery, actor=world.vendor_user)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 7)
    ids = {c["headers"]["webhook-id"] for c in app_server.hits("/hooks")}
    assert ids == {str(delivery.delivery_id)}
    actions = set(AuditEvent.objects.filter(object_id=delivery.pk).values_list("action", flat=True))
    assert {"delivery.retry", "delivery.fail", "delivery.redeliver", "delivery.succeed"} <= actions


def test_a_rotated_secret_signs_alongside_the_previous_one(catalogue, app_server, django_capture_on_commit_callbacks):
    world = make_world(sites=0)
    endpoint, old = register(world, app_server, ["rollout.halted"])
    endpoint, new = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=world.vendor_user)
    assert new != old and endpoint.previous_secret_expires_at > timezone.now() + timedelta(hours=23)
    for secret in (old, new):  # a receiver that knows either secret accepts the message
        app_server.webhook_secret = secret
        with django_capture_on_commit_callbacks(execute=True):
            services.webhook_endpoint_send_test(endpoint=endpoint, actor=world.vendor_user)
        assert app_server.calls[-1]["verified"], app_server.calls[-1]["problem"]
    assert len(app_server.calls[-1]["headers"]["webhook-signature"].split()) == 2


def test_rollouts_and_consent_decisions_fire_their_events(catalogue, app_server, django_capture_on_commit_callbacks):
    world = make_world(sites=2)
    register(world, app_server, ["rollout.completed", "consent.approved", "consent.rejected", "version.published"])
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    requests = list(UpgradeRequest.objects.filter(to_version=v2).order_by("pk"))
    with django_capture_on_commit_callbacks(execute=True):
        services.upgrade_request_approve(request_id=requests[0].pk, actor=world.admins[0].user)
        services.upgrade_request_reject(request_id=requests[1].pk, actor=world.admins[1].user)
    types = [json.loads(c["body"])["type"] for c in app_server.hits("/hooks")]
    assert sorted(types[:2]) == ["rollout.completed", "version.published"]
    assert types[2:] == ["consent.approved", "consent.rejected"]
    assert all(c["verified"] for c in app_server.calls)


def test_halting_a_rollout_fires_rollout_halted(catalogue, app_server, django_capture_on_commit_callbacks, settings):
    settings.ROLLOUT_CHUNK_SIZE = 1
    world = make_world(sites=3)
    register(world, app_server, ["rollout.halted"])
    with django_capture_on_commit_callbacks(execute=False):
        v2 = world.publish("1.0.1")  # the rollout is not started: nothing ran after commit
    from upgrades.services import rollout_start

    rollout = rollout_start(version_id=v2.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_halt(rollout=rollout, actor=world.vendor_user)
    [call] = app_server.hits("/hooks")
    body = json.loads(call["body"])
    assert call["verified"] and body["type"] == "rollout.halted" and body["data"]["rolloutId"] == rollout.pk
