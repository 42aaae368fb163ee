"""Lifecycle callbacks and OCP upgrade hooks against a real app server on 127.0.0.1 that verifies
every JWT with PyJWT (tests/http_servers.AppServer). Attempts after the first are driven by calling
the service with a later `now`, as the beat task and the retry's countdown would."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from tests.factories import HostProductFactory, ListingFactory, MembershipFactory, SiteFactory, VersionFactory
from tests.upgrades.world import make_world, publish
from upgrades import selectors, services
from upgrades.models import Delivery, DeliveryAttempt, DeliveryStreak, Installation, Upgrade

pytestmark = pytest.mark.django_db


def later(minutes: int = 120):
    return timezone.now() + timedelta(minutes=minutes)


def retry_until_settled(delivery: Delivery) -> Delivery:
    for step in range(1, 10):
        delivery.refresh_from_db()
        if delivery.state in ("succeeded", "failed"):
            return delivery
        services.delivery_send(delivery_pk=delivery.pk, now=later(120 * step))
    delivery.refresh_from_db()
    return delivery


def hooked_listing(app_server, scheme="manual", **urls):
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, scheme=scheme)
    listing.lifecycle_urls = {name: app_server.url(f"/{name}") for name in urls or ("installed",)}
    listing.save()
    version = VersionFactory(listing=listing, number="1.0.0", state="published", scopes=["read:jira-work"])
    return listing, version


def install(listing, version, capture):
    site = SiteFactory(host_product=HostProductFactory())
    with capture(execute=True):
        return services.installation_create(site=site, listing=listing, version=version)


def test_installed_is_signed_delivered_and_confirms_the_installation(
    catalogue, app_server, django_capture_on_commit_callbacks
):
    listing, version = hooked_listing(app_server)
    installation = install(listing, version, django_capture_on_commit_callbacks)

    [call] = app_server.hits("/installed")
    assert call["verified"], call["problem"]
    body = json.loads(call["body"])
    installation.refresh_from_db()
    assert body["sharedSecret"] == installation.shared_secret and len(installation.shared_secret) >= 40
    assert body["eventType"] == "installed" and body["key"] == listing.key and body["version"] == "1.0.0"
    assert body["installationId"] == installation.pk and body["siteId"] == installation.site_id
    delivery = Delivery.objects.get(installation=installation)
    assert body["deliveryId"] == str(delivery.delivery_id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("succeeded", 1, 200)
    assert "sharedSecret" not in delivery.payload  # the log shows the payload: never the secret
    assert installation.app_status == "confirmed"
    assert AuditEvent.objects.filter(action="installation.app_status", object_id=installation.pk).count() == 2


def test_a_delivery_failing_twice_succeeds_on_the_third_attempt_with_three_attempts_recorded(
    catalogue, app_server, django_capture_on_commit_callbacks
):
    app_server.fail_first["/installed"] = 2
    listing, version = hooked_listing(app_server)
    installation = install(listing, version, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(installation=installation)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("retrying", 1, 500)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=90)  # ~2 minutes, with jitter
    assert services.delivery_send(delivery_pk=delivery.pk) is None  # not due yet: nothing is sent

    delivery = retry_until_settled(delivery)
    assert (delivery.state, delivery.attempts) == ("succeeded", 3)
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
    assert attempts == [(1, 500), (2, 500), (3, 200)]
    calls = app_server.hits("/installed")
    assert len(calls) == 3 and all(c["verified"] for c in calls)
    assert len({json.loads(c["body"])["deliveryId"] for c in calls}) == 1  # one idempotency key
    installation.refresh_from_db()
    assert installation.app_status == "confirmed"


def test_installed_failing_for_good_marks_the_app_unconfirmed_mails_once_and_redelivery_confirms(
    catalogue, app_server, django_capture_on_commit_callbacks, mailoutbox, vendor_user
):
    app_server.fail_first["/installed"] = 100
    listing, version = hooked_listing(app_server)
    first = install(listing, version, django_capture_on_commit_callbacks)
    second = install(listing, version, django_capture_on_commit_callbacks)
    for installation in (first, second):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = retry_until_settled(Delivery.objects.get(installation=installation))
        assert (delivery.state, delivery.attempts) == ("failed", 6)
        installation.refresh_from_db()
        assert installation.app_status == "unconfirmed"
    # One e-mail per failure streak, not per failure (one message per recipient, none twice).
    assert len(mailoutbox) == len({m.to[0] for m in mailoutbox}) >= 1
    assert "could not be delivered" in mailoutbox[0].subject and "HTTP 500" in mailoutbox[0].body
    assert DeliveryStreak.objects.get().failures == 2

    app_server.fail_first["/installed"] = 0
    owner = listing.vendor.memberships.get().user
    failed = Delivery.objects.get(installation=first)
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_redeliver(delivery=failed, actor=owner)
    failed.refresh_from_db()
    first.refresh_from_db()
    assert (failed.state, failed.attempts, failed.delivery_id) == ("succeeded", 7, failed.delivery_id)
    assert first.app_status == "confirmed"
    assert not DeliveryStreak.objects.exists()  # the streak ended
    with pytest.raises(Exception, match="Only a delivery that failed"):
        services.delivery_redeliver(delivery=failed, actor=owner)


def test_connect_apps_are_called_at_the_descriptors_base_url_and_lifecycle_paths(
    catalogue, app_server, django_capture_on_commit_callbacks
):
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, scheme="connect")
    descriptor = {
        "key": listing.key,
        "baseUrl": app_server.url("/app"),
        "lifecycle": {"installed": "/installed", "disabled": "/off"},
    }
    version = VersionFactory(listing=listing, number="1.0.0", state="published", descriptor=descriptor)
    installation = install(listing, version, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.lifecycle_event_enqueue(installation=installation, event="disabled")
        assert services.lifecycle_event_enqueue(installation=installation, event="enabled") is None  # no URL
    assert [c["path"] for c in app_server.calls] == ["/app/installed", "/app/off"]
    assert all(c["verified"] for c in app_server.calls), [c["problem"] for c in app_server.calls]
    with pytest.raises(Exception, match="Unknown lifecycle event"):
        services.lifecycle_event_enqueue(installation=installation, event="exploded")


def test_ocp_minor_upgrade_calls_on_upgrade_then_on_finalize_once_each_per_installation(
    catalogue, app_server, django_capture_on_commit_callbacks
):
    world = make_world(scheme="ocp")
    world.listing.lifecycle_urls = {
        "installed": app_server.url("/installed"),
        "onUpgrade": app_server.url("/on-upgrade"),
        "onFinalizeUpgrade": app_server.url("/on-finalize"),
    }
    world.listing.save()
    for installation in world.installations:  # the app learns each secret from `installed`
        with django_capture_on_commit_callbacks(execute=True):
            services.lifecycle_event_enqueue(installation=installation, event="installed")
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks)

    assert Installation.objects.filter(version=v2).count() == 3
    for installation in world.installations:
        order = [
            c["path"]
            for c in app_server.calls
            if c["path"] != "/installed" and json.loads(c["body"])["installationId"] == installation.pk
        ]
        assert order == ["/on-upgrade", "/on-finalize"]
    assert all(c["verified"] for c in app_server.calls), [c["problem"] for c in app_server.calls]
    upgrade = Upgrade.objects.get(installation=world.installations[0], to_version=v2)
    assert upgrade.state == "applied"
    assert [(h["hook"], h["outcome"], h["status"]) for h in upgrade.hooks] == [
        ("onUpgrade", "ok", 200),
        ("onFinalizeUpgrade", "ok", 200),
    ]


def test_on_upgrade_failing_for_good_fails_the_upgrade_and_the_installation_stays(
    catalogue, app_server, django_capture_on_commit_callbacks
):
    world = make_world(scheme="ocp", sites=2)
    app_server.fail_first["/on-upgrade"] = 100
    world.listing.lifecycle_urls = {"onUpgrade": app_server.url("/on-upgrade")}
    world.listing.save()
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    waiting = list(Upgrade.objects.filter(to_version=v2))
    assert [u.state for u in waiting] == ["scheduled", "scheduled"] and all(u.hook_started_at for u in waiting)
    # The chunk's next run leaves them alone: their hook decides.
    assert services.upgrades_apply_due(now=later(1)) == 0

    with django_capture_on_commit_callbacks(execute=True):
        for delivery in Delivery.objects.filter(event="onUpgrade"):
            retry_until_settled(delivery)
    for upgrade in waiting:
        upgrade.refresh_from_db()
        assert upgrade.state == "failed" and "onUpgrade hook failed after 6 attempts" in upgrade.outcome
        assert "HTTP 500" in upgrade.outcome
    assert Installation.objects.filter(version=world.v1).count() == 2  # nobody moved
    assert not app_server.hits("/on-finalize")
    panel = selectors.listing_rollout_panel(listing=world.listing)
    item = next(r for r in panel["rollouts"] if r["rollout"].version_id == v2.pk)
    assert item["progress"]["failed"] == 2
    fails = AuditEvent.objects.filter(action="upgrade.fail", object_id__in=[u.pk for u in waiting])
    assert sorted("onUpgrade" in e.details["reason"] for e in fails) == [True, True]


def test_apps_without_hooks_make_no_deliveries_and_stay_set_based(
    catalogue, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    world = make_world(scheme="ocp", sites=5)
    publish(world, "1.0.1", django_capture_on_commit_callbacks)
    assert not Delivery.objects.exists()
    assert Upgrade.objects.filter(state="applied").count() == 5


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://10.1.2.3/installed", "a private address"),
        ("http://169.254.169.254/latest", "a link-local address"),
        ("ftp://example.com/installed", "Only http and https"),
    ],
)
def test_callbacks_to_forbidden_urls_are_refused_and_recorded(
    catalogue, django_capture_on_commit_callbacks, url, kind, settings
):
    settings.DESCRIPTOR_ALLOW_LOOPBACK = False
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, lifecycle_urls={"installed": url})
    version = VersionFactory(listing=listing, number="1.0.0", state="published")
    installation = install(listing, version, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(installation=installation)
    attempt = delivery.attempt_log.get()
    assert kind in attempt.error and attempt.status_code is None
    assert delivery.state == "retrying"


def test_bad_answers_are_cut_off_within_the_limits_and_recorded(
    catalogue, app_server, django_capture_on_commit_callbacks, settings
):
    settings.DELIVERY_READ_TIMEOUT = 0.3
    settings.DELIVERY_CONNECT_TIMEOUT = 0.3
    app_server.answers["/huge"] = b"x" * (30 * 1024 * 1024)
    app_server.stall["/silent"] = 3.0
    app_server.statuses["/moved"] = 302  # to 127.0.0.1/installed: never followed
    listing, version = hooked_listing(app_server)
    installation = install(listing, version, django_capture_on_commit_callbacks)  # the app learns its secret
    outcomes = {}
    for path in ("/huge", "/silent", "/moved"):
        listing.lifecycle_urls = {"disabled": app_server.url(path)}
        listing.save()
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            services.lifecycle_event_enqueue(installation=installation, event="disabled")
        outcomes[path] = (time.monotonic() - started, Delivery.objects.filter(url=app_server.url(path)).get())
    elapsed, huge = outcomes["/huge"]
    assert huge.state == "succeeded" and huge.last_status == 200 and huge.last_response.endswith("(cut off)")
    assert len(huge.last_response) < 1100 and elapsed < 5
    elapsed, silent = outcomes["/silent"]
    assert silent.state == "retrying" and "Timed out" in silent.last_error and elapsed < 2
    _, moved = outcomes["/moved"]
    assert moved.state == "retrying" and moved.last_status == 302 and "Redirects are not followed" in moved.last_error
    assert len(app_server.hits("/installed")) == 1  # the redirect's target was never called


def test_the_beat_sweep_sends_what_is_due_and_leaves_the_rest(catalogue, django_capture_on_commit_callbacks):
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, lifecycle_urls={"installed": "http://127.0.0.1:9/x"})
    version = VersionFactory(listing=listing, number="1.0.0", state="published")
    site = SiteFactory(host_product=HostProductFactory())
    services.installation_create(site=site, listing=listing, version=version)  # its task never ran (lost)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 0
    assert services.deliveries_send_due(now=timezone.now()) == 0  # a fresh one: its own task is on the way
    assert services.deliveries_send_due(now=later(2)) == 1  # eager: sent now, port 9 refuses
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.state == "retrying" and delivery.last_error
