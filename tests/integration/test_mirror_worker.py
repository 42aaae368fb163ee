"""The internal market through the real parts: the beat task on a Celery worker process
(Redis, PostgreSQL) syncs from a feed served on 127.0.0.1, and the rollout it starts
reminds the admins of a local site whose components differ (an e-mail through SMTP);
the admin's one-click upgrade then moves the site."""

from __future__ import annotations

from marketplace.models import Listing
from mirror.models import MirrorSource, MirrorSync
from mirror.tasks import poll_mirror_sources
from tests.factories import SiteAdminFactory
from tests.integration.processes import wait_until
from tests.mirror.upstream import COMPONENTS, feed_pages, make_upstream, publish_feed
from upgrades.models import Installation, UpgradeRequest
from upgrades.services import installation_create, installation_upgrade


def test_the_worker_mirrors_the_upstream_and_reminds_the_site_admins_who_upgrade(
    celery_worker_process, smtp_server, descriptor_server, settings
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
    admin = SiteAdminFactory(user__email="ops@customer.example.com")
    site = admin.site
    installation = installation_create(site=site, listing=group, version=group.versions.get())

    newer = upstream.share([{"name": "api", "version": "2"}, COMPONENTS[1]])
    publish_feed(descriptor_server, feed_pages(upstream.token, page_size=1, settings=settings))
    poll_mirror_sources.delay()
    second = wait_until(
        lambda: MirrorSync.objects.filter(source=source).exclude(pk=first.pk).exclude(outcome="running").first(), 60
    )
    assert (second.outcome, second.versions_created) == ("synced", 1), second.error

    [message] = smtp_server.wait_for(1, timeout=60)
    assert message["To"] == "ops@customer.example.com"
    assert f"ACME app group {newer.number} is ready to upgrade on {site.name}" in message["Subject"]
    request = UpgradeRequest.objects.get(installation=installation)
    assert request.state == "pending" and request.to_version.components == newer.components
    # The rollout did not apply it: the site waits for its admin.
    assert Installation.objects.get(pk=installation.pk).version.number == "1.0.0"

    upgrade = installation_upgrade(site_id=site.pk, installation_id=installation.pk, actor=admin.user)
    assert upgrade.to_version_id == request.to_version_id
    upgraded = wait_until(
        lambda: Installation.objects.filter(pk=installation.pk, version__number=newer.number).exists(), 60
    )
    assert upgraded, "the one-click upgrade was not applied"
    assert Installation.objects.get(pk=installation.pk).version.components == newer.components
    assert UpgradeRequest.objects.get(pk=request.pk).state == "approved"
