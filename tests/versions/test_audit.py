"""Version transitions write a portal-wide audit row beside their VersionTransition, and the
listing page shows the listing's history (listing, versions, rollouts) to its own vendor only."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import AuditEvent
from marketplace import services as catalogue
from tests.factories import ListingFactory, MembershipFactory, ReviewerFactory, UserFactory, VersionFactory
from upgrades.models import Rollout
from upgrades.services import rollout_halt
from versions.models import VersionTransition
from versions.services import version_approve, version_create, version_publish, version_start_review, version_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(role="owner", user=UserFactory(username="olivia")).user


@pytest.fixture
def listing(owner):
    vendor = owner.vendor_memberships.get().vendor
    return ListingFactory(vendor=vendor, key="time-tracker", name="Time Tracker")


def audit_rows(version):
    return list(AuditEvent.objects.filter(object_type="versions.version", object_id=version.pk).order_by("id"))


def test_each_transition_writes_exactly_one_audit_row_beside_its_transition_row(owner, listing):
    version = version_create(listing=listing, actor=owner, number="1.0.0", update_notes="First.")
    version = version_submit(version=version, actor=owner, comment="please")
    rows = audit_rows(version)
    assert [(r.action, r.from_state, r.to_state, r.actor) for r in rows] == [
        ("version.create", "", "draft", owner),
        ("version.submit", "draft", "pending_approval", owner),
    ]
    assert rows[1].comment == "please" and rows[1].object_repr == "time-tracker@1.0.0"
    assert VersionTransition.objects.filter(version=version).count() == len(rows)
    reviewer = ReviewerFactory()
    version_start_review(version=version, actor=reviewer)
    version_approve(version=version, actor=reviewer, comment="fine")
    assert [(r.action, r.actor) for r in audit_rows(version)[2:]] == [
        ("version.start_review", reviewer),
        ("version.approve", reviewer),
    ]


def test_publishing_writes_the_publish_row_and_the_superseded_versions_row(owner, listing):
    old = VersionFactory(listing=listing, number="1.0.0", state="published")
    new = VersionFactory(listing=listing, number="1.1.0", state="approved")
    version_publish(version=new, actor=owner)
    (published,) = audit_rows(new)
    assert (published.action, published.from_state, published.to_state, published.actor) == (
        "version.publish",
        "approved",
        "published",
        owner,
    )
    (superseded,) = audit_rows(old)
    assert (superseded.action, superseded.actor_label, superseded.to_state) == (
        "version.supersede",
        "system",
        "superseded",
    )


def test_the_listing_page_shows_its_history_in_words_to_its_vendor_only(
    owner, listing, django_capture_on_commit_callbacks
):
    catalogue.listing_update(listing=listing, actor=owner, name="Time Tracker Pro")
    version = VersionFactory(listing=listing, number="1.0.0", state="approved")
    with django_capture_on_commit_callbacks(execute=True):
        version_publish(version=version, actor=owner)
    rollout = Rollout.objects.get(version=version)
    client = Client()
    client.force_login(owner)
    page = client.get(f"/portal/listings/{listing.key}/")
    assert page.status_code == 200
    history = page.content.decode().split('id="history-heading"')[1]
    assert "Published version" in history and "time-tracker@1.0.0" in history
    assert "Edited listing" in history and "changed name" in history and "(approved &rarr; published)" in history
    assert "Started rollout" in history and "Completed rollout" in history
    kinds = {e.object_type for e in page.context["history"]}
    assert kinds == {"marketplace.listing", "versions.version", "upgrades.rollout"}
    assert "version.publish" not in history.replace('data-action="version.publish"', "")  # words, not codes

    # Another vendor: the page is not found, and their own listing's history has none of this.
    rival = MembershipFactory(role="owner").user
    rival_listing = ListingFactory(vendor=rival.vendor_memberships.get().vendor, key="rival-app")
    catalogue.listing_archive(listing=rival_listing, actor=rival)
    other = Client()
    other.force_login(rival)
    assert other.get(f"/portal/listings/{listing.key}/").status_code == 404
    theirs = other.get(f"/portal/listings/{rival_listing.key}/")
    assert [(e.action, e.object_id) for e in theirs.context["history"]] == [("listing.archive", rival_listing.pk)]
    assert "time-tracker" not in theirs.content.decode().split('id="history-heading"')[1]
    assert rollout.pk not in {e.object_id for e in theirs.context["history"]}


def test_the_history_is_paginated(owner, listing):
    for n in range(25):
        catalogue.listing_update(listing=listing, actor=owner, summary=f"summary {n}")
    client = Client()
    client.force_login(owner)
    first = client.get(f"/portal/listings/{listing.key}/")
    assert len(first.context["history"]) == 20 and first.context["history"].paginator.count == 25
    assert "?history_page=2" in first.content.decode()
    second = client.get(f"/portal/listings/{listing.key}/", {"history_page": 2})
    assert len(second.context["history"]) == 5


def test_a_halted_rollout_shows_who_halted_it(owner, listing, django_capture_on_commit_callbacks):
    version = VersionFactory(listing=listing, number="1.0.0", state="approved")
    with django_capture_on_commit_callbacks(execute=False):
        version_publish(version=version, actor=owner)
    rollout = Rollout.objects.create(version=version, listing=listing)
    rollout_halt(rollout=rollout, actor=owner)
    client = Client()
    client.force_login(owner)
    history = client.get(f"/portal/listings/{listing.key}/").content.decode().split('id="history-heading"')[1]
    assert "Halted rollout" in history and "olivia" in history
