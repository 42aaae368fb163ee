"""Mirror syncs write an audit row when they start and when they finish or fail; the listings a
sync creates, archives and brings back write theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from marketplace.models import Listing
from mirror.models import MirrorSource, MirrorSync
from mirror.services import mirror_sync, mirror_sync_prune
from tests.mirror.upstream import feed_pages, publish_feed

pytestmark = pytest.mark.django_db


def sync_rows(sync):
    return [
        (e.action, e.from_state, e.to_state, e.actor_label)
        for e in AuditEvent.objects.filter(object_type="mirror.mirrorsync", object_id=sync.pk).order_by("id")
    ]


def listing_rows(key):
    listing = Listing.objects.get(key=key)
    return [
        e.action
        for e in AuditEvent.objects.filter(object_type="marketplace.listing", object_id=listing.pk).order_by("id")
    ]


def test_a_sync_writes_its_start_and_finish_and_its_listings_rows(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    sync = mirror_sync(source=source)
    assert sync_rows(sync) == [
        ("mirror_sync.start", "", "running", "system"),
        ("mirror_sync.finish", "running", "synced", "system"),
    ]
    assert listing_rows("up-acme-tool") == ["listing.create"]
    tool = Listing.objects.get(key="up-acme-tool")
    versions = AuditEvent.objects.filter(object_type="versions.version", details__listing_id=tool.pk)
    assert {e.action for e in versions} == {"version.create", "version.release_without_review", "version.supersede"}

    upstream.tool.visibility = "private"
    upstream.tool.save()
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    mirror_sync(source=source)
    assert listing_rows("up-acme-tool") == ["listing.create", "listing.archive"]
    upstream.tool.visibility = "public"
    upstream.tool.save()
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    mirror_sync(source=source)
    assert listing_rows("up-acme-tool") == ["listing.create", "listing.archive", "listing.unarchive"]


def test_a_failed_sync_writes_its_failure(upstream, descriptor_server, source_for):
    source = source_for(descriptor_server, upstream.token)  # nothing served: the feed is not found
    sync = mirror_sync(source=source)
    assert sync.outcome == "failed"
    assert sync_rows(sync) == [
        ("mirror_sync.start", "", "running", "system"),
        ("mirror_sync.fail", "running", "failed", "system"),
    ]
    assert AuditEvent.objects.get(action="mirror_sync.fail").comment == sync.error


def test_the_housekeeping_writes_a_row_for_each_sync_it_closes():
    source = MirrorSource.objects.create(name="up", base_url="https://up.example.com", token="t")
    stale = MirrorSync.objects.create(source=source)
    fresh = MirrorSync.objects.create(source=source)
    MirrorSync.objects.filter(pk=stale.pk).update(started_at=timezone.now() - timedelta(hours=1))
    mirror_sync_prune()
    assert sync_rows(stale) == [("mirror_sync.fail", "running", "failed", "system")]
    assert sync_rows(fresh) == []
    mirror_sync_prune()
    assert len(sync_rows(stale)) == 1
