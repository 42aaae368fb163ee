"""Celery tasks of automatic versions: the spread-out fan-out, one poll, the e-mails."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

import pytest
from celery.signals import before_task_publish
from django.core import mail
from django.utils import timezone

from config.celery import app
from tests.celery_helpers import reset_celery_connections
from tests.factories import ListingFactory, MembershipFactory
from versions import tasks
from versions.models import AutoVersionNotice, DescriptorPoll, DescriptorPollState

pytestmark = pytest.mark.django_db
BODY = json.dumps({"key": "acme", "scopes": ["read:jira-work"]})


@pytest.fixture
def vendor():
    return MembershipFactory(role="owner", vendor__contact_email="team@acme.example.com").vendor


@pytest.fixture
def published_messages():
    """Publish to Celery's in-memory broker (not eagerly) and keep what was sent."""
    sent: list[dict] = []

    def keep(sender=None, headers=None, routing_key=None, **kwargs):
        sent.append({"task": sender, "headers": headers, "routing_key": routing_key, "body": kwargs.get("body")})

    before_task_publish.connect(keep, weak=False)
    old = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    reset_celery_connections()
    try:
        yield sent
    finally:
        before_task_publish.disconnect(keep)
        app.conf.task_always_eager, app.conf.broker_url = old
        reset_celery_connections()


def test_fan_out_enqueues_the_due_listings_spread_over_one_tick(vendor, published_messages, settings):
    settings.DESCRIPTOR_POLL_DISPATCH_EVERY = timedelta(minutes=5)
    due = [
        ListingFactory(vendor=vendor, scheme="connect", descriptor_url=f"https://e.example/{i}.json") for i in range(4)
    ]
    recent = ListingFactory(vendor=vendor, scheme="connect", descriptor_url="https://e.example/r.json")
    DescriptorPollState.objects.create(
        listing=recent,
        last_polled_at=timezone.now() - timedelta(minutes=10),
        next_poll_at=timezone.now() + timedelta(hours=4),
    )
    stale = ListingFactory(vendor=vendor, scheme="connect", descriptor_url="https://e.example/s.json")
    DescriptorPollState.objects.create(
        listing=stale,
        last_polled_at=timezone.now() - timedelta(hours=4),
        next_poll_at=timezone.now() - timedelta(minutes=1),
    )
    ListingFactory(
        vendor=vendor, scheme="connect", descriptor_url="https://e.example/a.json", archived_at=timezone.now()
    )
    ListingFactory(vendor=vendor, scheme="forge", descriptor_url="https://e.example/f.json")

    assert tasks.poll_due_descriptors() == 5
    polls = [m for m in published_messages if m["task"] == "versions.tasks.poll_descriptor"]
    assert sorted(m["body"][0][0] for m in polls) == sorted([*(listing.pk for listing in due), stale.pk])
    assert {m["routing_key"] for m in polls} == {"polling"}
    etas = sorted(datetime.fromisoformat(m["headers"]["eta"]) for m in polls if m["headers"]["eta"])
    # The first poll starts at once; the others are spread evenly over 80 % of the 5-minute tick.
    assert len(etas) == 4
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(etas)]
    assert all(abs(g - 300 * 0.8 / 5) < 2 for g in gaps)
    assert (etas[-1] - timezone.now()).total_seconds() < 300 * 0.8
    # Claimed: the next tick enqueues none of them again.
    published_messages.clear()
    assert tasks.poll_due_descriptors() == 0
    assert published_messages == []


def test_fan_out_with_nothing_due_queues_nothing(published_messages):
    assert tasks.poll_due_descriptors() == 0
    assert published_messages == []


def test_poll_task_polls_and_returns_quietly_for_gone_listings(
    vendor, descriptor_server, django_capture_on_commit_callbacks
):
    url = descriptor_server.serve("/d.json", BODY, etag='"1"')
    listing = ListingFactory(vendor=vendor, scheme="connect", descriptor_url=url)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_descriptor.delay(listing.pk)
    poll = DescriptorPoll.objects.get(listing=listing)
    assert poll.outcome == "version_created"
    assert poll.version.number == "1.0.0"
    tasks.poll_descriptor.delay(999_999)  # no such listing: nothing happens
    listing.archived_at = timezone.now()
    listing.save()
    tasks.poll_descriptor.delay(listing.pk)
    assert DescriptorPoll.objects.filter(listing=listing).count() == 1


def test_failure_email_is_sent_once_per_poll(vendor, settings):
    listing = ListingFactory(vendor=vendor, scheme="connect", descriptor_url="https://e.example/d.json")
    poll = DescriptorPoll.objects.create(
        listing=listing,
        url=listing.descriptor_url,
        outcome="failed",
        error_kind="http_error",
        error="HTTP 500",
        http_status=500,
    )
    tasks.send_poll_failure_email.delay(poll.pk)
    tasks.send_poll_failure_email.delay(poll.pk)
    recipients = [m.to[0] for m in mail.outbox]
    assert (
        len(recipients) == len(set(recipients)) >= 1
    )  # one message per recipient (each with its own unsubscribe link), none twice
    message = next(m for m in mail.outbox if m.to == ["team@acme.example.com"])
    assert "HTTP 500" in message.body
    assert f"{settings.PORTAL_BASE_URL}/portal/listings/{listing.key}/polls/" in message.body
    assert message.alternatives and "HTTP 500" in message.alternatives[0][0]


def test_vendor_emails_reach_every_active_member_not_only_owners(vendor):
    developer = MembershipFactory(vendor=vendor, role="developer").user
    listing = ListingFactory(vendor=vendor, scheme="connect", descriptor_url="https://e.example/d.json")
    poll = DescriptorPoll.objects.create(listing=listing, url=listing.descriptor_url, outcome="failed", error="x")
    tasks.send_poll_failure_email.delay(poll.pk)
    owner = vendor.memberships.get(role="owner").user
    assert sorted(m.to[0] for m in mail.outbox) == sorted([developer.email, owner.email, "team@acme.example.com"])


def test_auto_version_email_is_sent_once(vendor, descriptor_server, django_capture_on_commit_callbacks):
    url = descriptor_server.serve("/d.json", BODY)
    listing = ListingFactory(vendor=vendor, scheme="connect", descriptor_url=url)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_descriptor.delay(listing.pk)
    version = DescriptorPoll.objects.get(listing=listing).version
    tasks.send_auto_version_email.delay(version.pk)
    tasks.send_auto_version_email.delay(version.pk)
    recipients = [m.to[0] for m in mail.outbox]
    assert (
        len(recipients) == len(set(recipients)) >= 1
    )  # one message per recipient (each with its own unsubscribe link), none twice
    assert "1.0.0" in mail.outbox[0].subject
    assert "It is published" in mail.outbox[0].body
    assert AutoVersionNotice.objects.filter(version=version).count() == 1


def test_beat_looks_for_due_polls_every_few_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["versions-poll-due-descriptors"]
    assert entry["task"] == "versions.tasks.poll_due_descriptors"
    assert entry["schedule"] == settings.DESCRIPTOR_POLL_DISPATCH_EVERY <= timedelta(minutes=10)
    assert entry["task"] in app.tasks
    route = app.amqp.router.route({}, "versions.tasks.send_poll_failure_email")
    assert route["queue"].name == "email"
