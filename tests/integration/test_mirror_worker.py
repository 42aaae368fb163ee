"""The internal market through the real parts: the beat task on a Celery worker process
(Redis, PostgreSQL) syncs from a feed served on 127.0.0.1, and the rollout it starts
upgrades a local site whose components differ."""

from __future__ import annotations

from marketplace.models import Listing
from mirror.models import MirrorSource, MirrorSync
from mirror.tasks import poll_mirror_sources
from tests.factories import SiteFactory
from tests.integration.processes import wait_until
from tests.mirror.upstream import COMPONENTS, feed_pages, make_upstream, publish_feed
from upgrades.models import Installation, UpgradeRequest
from upgrades.services import installation_create


def test_the_worker_mirrors_the_upstream_and_the_rollout_updates_the_site(
    celery_worker_process, descriptor_server, settings
):
    upstream = make_upstream()
    publish_feed(descriptor_server, feed_pages(upstream.token, page_size=1, settings=settings))
    source = MirrorSource.objects.create(base_url=descriptor_server.url(""), token=upstream.token, key_prefix="up-")

    poll_mirror_sources.delay()
    first = wait_until(lambda: MirrorSync.objects.filter(source=source).exclude(outcome="running").first(), 60)
    assert first is not None, "the worker did not sync"
    assert (first.outcome, first.trigger, first.pages, first.versions_created) == ("synced", "schedule", 2, 3), (
        first.error
    )
    group = Listing.objects.get(key="up-acme-group")
    site = SiteFactory()
    installation = installation_create(site=site, listing=group, version=group.versions.get())

    newer = upstream.share([{"name": "api", "version": "2"}, COMPONENTS[1]])
    publish_feed(descriptor_server, feed_pages(upstream.token, page_size=1, settings=settings))
    poll_mirror_sources.delay()
    second = wait_until(
        lambda: MirrorSync.objects.filter(source=source).exclude(pk=first.pk).exclude(outcome="running").first(), 60
    )
    assert (second.outcome, second.versions_created) == ("synced", 1), second.error

    upgraded = wait_until(
        lambda: Installation.objects.filter(pk=installation.pk, version__number=newer.number).exists(), 60
    )
    assert upgraded, "the rollout did not upgrade the site"
    assert Installation.objects.get(pk=installation.pk).version.components == newer.components
    assert not UpgradeRequest.objects.exists()
