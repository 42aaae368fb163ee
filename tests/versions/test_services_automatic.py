"""Poll and deploy services end to end: a real HTTP server, the real lifecycle services."""

from __future__ import annotations

import heapq
import itertools
import json
import random
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from core.emails import vendor_recipients
from core.errors import ApplicationError, NotFound
from tests.factories import ListingFactory, MembershipFactory, ScopeFactory, UserFactory
from versions.descriptors import DescriptorError
from versions.models import Deploy, DescriptorPoll, DescriptorPollState, Version
from versions.services import automatic as auto

pytestmark = pytest.mark.django_db
SIMULATED_LISTINGS = 300


def descriptor(**fields) -> str:
    base = {
        "key": "acme-connect",
        "name": "Acme",
        "baseUrl": "{{localBaseUrl}}",
        "scopes": ["read:jira-work"],
        "modules": {"generalPages": [{"key": "hello", "url": "/hello"}]},
    }
    base.update(fields)
    return json.dumps(base, indent=2)


@pytest.fixture(autouse=True)
def _catalogue():
    cache.clear()
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    yield
    cache.clear()


@pytest.fixture
def owner():
    return MembershipFactory(role="owner", vendor__contact_email="team@acme.example.com").user


@pytest.fixture
def connect_listing(owner, descriptor_server):
    url = descriptor_server.serve("/acme.json", descriptor(), etag='"v1"')
    return ListingFactory(
        key="acme-connect", scheme="connect", descriptor_url=url, vendor=owner.vendor_memberships.get().vendor
    )


def poll(listing, capture):
    with capture(execute=True):
        return auto.listing_poll_descriptor(listing=listing)


def test_first_poll_creates_1_0_0_published(connect_listing, django_capture_on_commit_callbacks):
    result = poll(connect_listing, django_capture_on_commit_callbacks)
    assert result.outcome == DescriptorPoll.Outcome.VERSION_CREATED
    assert result.http_status == 200
    assert result.etag == '"v1"'
    version = result.version
    assert (version.number, version.build_number, version.state, version.source) == ("1.0.0", 1, "published", "poll")
    assert version.scopes == ["read:jira-work"]
    assert version.descriptor["key"] == "acme-connect"
    assert len(version.descriptor_hash) == 64
    assert version.descriptor_hash == result.descriptor_hash  # the same canonical recipe as the lifecycle uses
    assert version.transitions.filter(name="release_without_review", actor__isnull=True).exists()
    state = DescriptorPollState.objects.get(listing=connect_listing)
    assert (state.etag, state.failure_streak) == ('"v1"', 0)
    # The vendor hears about the automatic version, once (one message per recipient).
    assert len(mail.outbox) == len({m.to[0] for m in mail.outbox}) >= 1
    assert mail.outbox[0].subject == f"[Marketplace] {connect_listing.name} 1.0.0 was created from your descriptor"
    assert ["team@acme.example.com"] in [m.to for m in mail.outbox]


def test_304_and_same_descriptor_make_no_version(
    connect_listing, descriptor_server, django_capture_on_commit_callbacks
):
    poll(connect_listing, django_capture_on_commit_callbacks)
    second = poll(connect_listing, django_capture_on_commit_callbacks)
    assert second.outcome == DescriptorPoll.Outcome.NOT_MODIFIED
    assert second.http_status == 304
    assert descriptor_server.hits("/acme.json")[-1]["headers"]["If-None-Match"] == '"v1"'
    # Only whitespace, key order and scope case changed: a new ETag, but the same descriptor.
    doc = json.loads(descriptor(scopes=["READ:Jira-Work"]))
    descriptor_server.serve("/acme.json", json.dumps(dict(reversed(list(doc.items())))), etag='"v2"')
    third = poll(connect_listing, django_capture_on_commit_callbacks)
    assert third.outcome == DescriptorPoll.Outcome.UNCHANGED
    assert Version.objects.filter(listing=connect_listing).count() == 1
    assert DescriptorPollState.objects.get(listing=connect_listing).etag == '"v2"'


@pytest.mark.parametrize(
    ("change", "number", "reason"),
    [
        ({"scopes": ["read:jira-work", "write:jira-work"]}, "1.1.0", "scope added: write:jira-work"),
        ({"apiVersion": 2}, "2.0.0", "API version 1 -> 2"),
        ({"name": "Acme Renamed"}, "1.0.1", "changed: name"),
    ],
)
def test_changed_descriptor_makes_the_next_version(
    connect_listing,
    descriptor_server,
    django_capture_on_commit_callbacks,
    change,
    number,
    reason,
):
    first = poll(connect_listing, django_capture_on_commit_callbacks).version
    descriptor_server.serve("/acme.json", descriptor(**change), etag='"v2"')
    result = poll(connect_listing, django_capture_on_commit_callbacks)
    version = result.version
    assert (version.number, version.build_number, version.state) == (number, 2, "published")
    assert reason in result.reasons
    assert reason in version.update_notes
    first.refresh_from_db()
    assert first.state == "superseded"


def test_free_to_paid_waits_for_review(connect_listing, descriptor_server, django_capture_on_commit_callbacks):
    poll(connect_listing, django_capture_on_commit_callbacks)
    descriptor_server.serve("/acme.json", descriptor(enableLicensing=True), etag='"v2"')
    result = poll(connect_listing, django_capture_on_commit_callbacks)
    assert result.version.number == "1.1.0"
    assert result.version.state == "pending_approval"
    assert result.version.pricing == "paid"
    # Polling the same paid descriptor again while it waits makes nothing new.
    descriptor_server.serve("/acme.json", descriptor(enableLicensing=True), etag='"v3"')
    again = poll(connect_listing, django_capture_on_commit_callbacks)
    assert again.outcome == DescriptorPoll.Outcome.UNCHANGED
    assert again.version == result.version
    assert Version.objects.filter(listing=connect_listing).count() == 2


@pytest.mark.parametrize(
    ("serve", "kind"),
    [
        ({"body": "oops", "status": 500}, "http_error"),
        ({"body": '{"key": "acme-connect", '}, "invalid_descriptor"),
        ({"body": descriptor(key="someone-else")}, "key_changed"),
        ({"body": "x" * 3000}, "too_large"),
    ],
)
def test_failures_make_no_version_and_one_email_per_streak(
    connect_listing,
    descriptor_server,
    django_capture_on_commit_callbacks,
    settings,
    serve,
    kind,
):
    settings.DESCRIPTOR_MAX_BYTES = 2000
    poll(connect_listing, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    descriptor_server.serve("/acme.json", **serve)
    failures = [poll(connect_listing, django_capture_on_commit_callbacks) for _ in range(3)]
    assert {p.outcome for p in failures} == {DescriptorPoll.Outcome.FAILED}
    assert {p.error_kind for p in failures} == {kind}
    assert all(p.error for p in failures)
    assert Version.objects.filter(listing=connect_listing).count() == 1
    state = DescriptorPollState.objects.get(listing=connect_listing)
    assert state.failure_streak == 3
    recipients = len(vendor_recipients(connect_listing.vendor))  # one message each (issue #16 item 5)
    assert len(mail.outbox) == recipients
    assert "failed" in mail.outbox[0].subject
    assert failures[0].error in mail.outbox[0].body
    assert DescriptorPoll.objects.get(pk=failures[0].pk).notified_at is not None
    # A success ends the streak; the next failure e-mails again.
    descriptor_server.serve("/acme.json", descriptor(), etag='"v9"')
    assert poll(connect_listing, django_capture_on_commit_callbacks).outcome == DescriptorPoll.Outcome.UNCHANGED
    descriptor_server.serve("/acme.json", **serve)
    poll(connect_listing, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2 * recipients


def test_an_unexpected_error_is_recorded_not_raised(
    connect_listing, descriptor_server, django_capture_on_commit_callbacks, monkeypatch
):
    """A bug hit by some descriptor must not take the worker down or leave the poll unrecorded."""

    def broken(**kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(auto, "descriptor_ingest", broken)
    result = poll(connect_listing, django_capture_on_commit_callbacks)
    assert (result.outcome, result.error_kind, result.version) == ("failed", "internal_error", None)
    assert "internal error" in result.error and "simulated bug" not in result.error
    assert DescriptorPollState.objects.get(listing=connect_listing).failure_streak == 1


def test_timeout_is_recorded(connect_listing, descriptor_server, django_capture_on_commit_callbacks, settings):
    settings.DESCRIPTOR_READ_TIMEOUT = 0.3
    descriptor_server.serve("/acme.json", descriptor(), delay=1.5)
    result = poll(connect_listing, django_capture_on_commit_callbacks)
    assert (result.outcome, result.error_kind, result.version) == ("failed", "timeout", None)
    assert result.duration_ms < 1400


def test_refused_address_is_recorded(connect_listing, descriptor_server, django_capture_on_commit_callbacks):
    descriptor_server.redirect("/acme.json", "http://192.168.0.10/descriptor.json")
    result = poll(connect_listing, django_capture_on_commit_callbacks)
    assert (result.outcome, result.error_kind) == ("failed", "refused_address")
    assert "192.168.0.10" in result.error


def test_listing_request_poll_checks_the_vendor(connect_listing, owner, django_capture_on_commit_callbacks):
    stranger = UserFactory()
    with pytest.raises(NotFound):
        auto.listing_request_poll(listing=connect_listing, actor=stranger)
    with django_capture_on_commit_callbacks(execute=True):
        auto.listing_request_poll(listing=connect_listing, actor=owner)
    poll_row = DescriptorPoll.objects.get(listing=connect_listing)
    assert (poll_row.trigger, poll_row.requested_by) == ("manual", owner)
    with pytest.raises(ApplicationError, match="less than 10 seconds ago"):
        auto.listing_request_poll(listing=connect_listing, actor=owner)
    manual = ListingFactory(vendor=connect_listing.vendor, scheme="manual")
    with pytest.raises(ApplicationError, match="only connect listings are polled"):
        auto.listing_request_poll(listing=manual, actor=owner)


def test_listings_due_for_poll(connect_listing, django_capture_on_commit_callbacks):
    ListingFactory(scheme="connect", descriptor_url="")
    ListingFactory(scheme="manual", descriptor_url="https://example.com/d.json")
    assert list(auto.listings_due_for_poll()) == [connect_listing]
    poll(connect_listing, django_capture_on_commit_callbacks)
    assert list(auto.listings_due_for_poll()) == []


def test_a_poll_sets_the_next_poll_time_one_cadence_ahead(
    connect_listing, django_capture_on_commit_callbacks, settings
):
    settings.DESCRIPTOR_POLL_INTERVAL = timedelta(hours=5)
    settings.DESCRIPTOR_POLL_DISPATCH_EVERY = timedelta(minutes=5)
    settings.DESCRIPTOR_POLL_QUEUE_ALLOWANCE = timedelta(minutes=20)
    assert auto.poll_cadence() == timedelta(hours=4, minutes=30)
    poll(connect_listing, django_capture_on_commit_callbacks)
    state = DescriptorPollState.objects.get(listing=connect_listing)
    assert state.next_poll_at == state.last_polled_at + timedelta(hours=4, minutes=30)
    later = state.next_poll_at + timedelta(seconds=1)
    assert list(auto.listings_due_for_poll(now=later)) == [connect_listing]
    assert [pk for pk, _ in auto.descriptor_polls_claim_due(now=later)] == [connect_listing.pk]
    # Claimed: a second tick right after enqueues nothing; once the queue allowance passed, it is claimed again.
    assert auto.descriptor_polls_claim_due(now=later + timedelta(minutes=5)) == []
    assert len(auto.descriptor_polls_claim_due(now=later + timedelta(minutes=21))) == 1


def test_a_simulated_day_polls_hundreds_of_listings_at_most_5_hours_apart(owner, descriptor_server, settings):
    """The seed promises a poll every 5 hours. 300 listings (a tenth of them failing, forty more
    added during the day), beat every 5 minutes, each poll waiting up to 10 minutes in the queue:
    no listing goes more than 5 hours without a poll, and none is polled twice in one cadence."""
    settings.DESCRIPTOR_POLL_INTERVAL = timedelta(hours=5)
    settings.DESCRIPTOR_POLL_DISPATCH_EVERY = timedelta(minutes=5)
    settings.DESCRIPTOR_POLL_QUEUE_ALLOWANCE = timedelta(minutes=20)
    vendor = owner.vendor_memberships.get().vendor
    unchanged = descriptor_server.serve("/unchanged.json", status=304)
    broken = descriptor_server.serve("/broken.json", status=500)
    listings = {
        listing.pk: listing
        for listing in (
            ListingFactory(vendor=vendor, scheme="connect", descriptor_url=broken if i % 10 == 0 else unchanged)
            for i in range(SIMULATED_LISTINGS)
        )
    }
    rng = random.Random(10)
    start = timezone.now()
    end = start + timedelta(days=1)
    tick = timedelta(minutes=5)
    added_at: dict[int, datetime] = dict.fromkeys(listings, start)
    queue: list[tuple[datetime, int]] = []
    polled: dict[int, list[datetime]] = {pk: [] for pk in listings}
    now = start
    while now < end:
        if now == start + timedelta(hours=7):  # vendors keep listing apps
            for _ in range(40):
                listing = ListingFactory(vendor=vendor, scheme="connect", descriptor_url=unchanged)
                listings[listing.pk], added_at[listing.pk], polled[listing.pk] = listing, now, []
        for listing_id, countdown in auto.descriptor_polls_claim_due(now=now):
            delay = timedelta(seconds=countdown + rng.uniform(0, 600))
            heapq.heappush(queue, (now + delay, listing_id))
        while queue and queue[0][0] < now + tick:
            at, listing_id = heapq.heappop(queue)
            auto.listing_poll_descriptor(listing=listings[listing_id], now=at)
            polled[listing_id].append(at)
        now += tick

    limit = timedelta(hours=5)
    gaps = []
    for listing_id, times in polled.items():
        assert times, f"listing {listing_id} was never polled"
        # From its listing to its first poll, between polls, and from the last poll to the end of the day.
        gaps += [b - a for a, b in itertools.pairwise([added_at[listing_id], *times, end])]
        assert min(b - a for a, b in itertools.pairwise(times)) >= auto.poll_cadence()
    assert max(gaps) <= limit, f"longest gap {max(gaps)}"
    assert DescriptorPoll.objects.count() == sum(len(times) for times in polled.values())
    assert DescriptorPoll.objects.filter(outcome=DescriptorPoll.Outcome.FAILED).count() > 0


# --- deploys ------------------------------------------------------------------------------------

MANIFEST = """app:
  id: ari:cloud:ecosystem::app/acme
modules:
  jira:issuePanel:
    - key: panel
      title: Panel
permissions:
  scopes:
    - read:jira-work
"""


@pytest.fixture
def forge_listing(owner):
    return ListingFactory(key="acme-forge", scheme="forge", vendor=owner.vendor_memberships.get().vendor)


def test_deploy_creates_versions_by_forge_rules_and_is_idempotent(forge_listing, owner):
    deploy, created = auto.deploy_create(listing=forge_listing, actor=owner, manifest=MANIFEST)
    assert created and deploy.version.number == "1.0.0" and deploy.version.state == "published"
    assert deploy.version.source == "deploy"
    again, created_again = auto.deploy_create(listing=forge_listing, actor=owner, manifest=MANIFEST + "\n\n")
    assert not created_again and again.version == deploy.version
    minor, _ = auto.deploy_create(listing=forge_listing, actor=owner, manifest=MANIFEST.replace("Panel", "Panel 2"))
    assert minor.version.number == "1.1.0"
    major, _ = auto.deploy_create(
        listing=forge_listing, actor=owner, manifest=MANIFEST.replace("Panel", "Panel 2") + "    - write:jira-work\n"
    )
    assert major.version.number == "2.0.0"
    assert "scope added: write:jira-work" in major.version.update_notes
    assert Version.objects.filter(listing=forge_listing).count() == 3
    assert Deploy.objects.filter(listing=forge_listing).count() == 4


def test_deploy_free_to_paid_waits_for_review(forge_listing, owner):
    auto.deploy_create(listing=forge_listing, actor=owner, manifest=MANIFEST)
    paid = MANIFEST.replace("app:\n", "app:\n  licensing:\n    enabled: true\n")
    deploy, _ = auto.deploy_create(listing=forge_listing, actor=owner, manifest=paid)
    assert (deploy.version.number, deploy.version.state) == ("2.0.0", "pending_approval")


def test_deploy_refusals_change_nothing(forge_listing, owner, connect_listing):
    with pytest.raises(NotFound):
        auto.deploy_create(listing=forge_listing, actor=UserFactory(), manifest=MANIFEST)
    with pytest.raises(ApplicationError, match="deploys are for forge listings"):
        auto.deploy_create(listing=connect_listing, actor=owner, manifest=MANIFEST)
    with pytest.raises(DescriptorError) as exc:
        auto.deploy_create(listing=forge_listing, actor=owner, manifest="app: [")
    assert exc.value.field == "manifest"
    auto.deploy_create(listing=forge_listing, actor=owner, manifest=MANIFEST)
    with pytest.raises(DescriptorError, match="app key changed"):
        auto.deploy_create(listing=forge_listing, actor=owner, manifest=MANIFEST.replace("app/acme", "app/other"))
    assert Version.objects.filter(listing=forge_listing).count() == 1
