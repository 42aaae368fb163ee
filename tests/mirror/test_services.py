"""Syncing a mirror source against a real HTTP server on 127.0.0.1 serving the real feed."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.errors import ApplicationError
from marketplace.models import Listing
from mirror.feed import FEED_PATH
from mirror.models import MirroredListing, MirrorSync
from mirror.services import mirror_sync
from tests.factories import ListingFactory, SiteAdminFactory, SiteFactory, VersionFactory
from tests.http_servers import running
from tests.mirror.upstream import COMPONENTS, feed_pages, publish_feed
from upgrades.models import Upgrade, UpgradeRequest
from upgrades.selectors import site_updates
from upgrades.services import installation_create
from versions.models import Version

pytestmark = pytest.mark.django_db


def local_state() -> tuple:
    """Everything a sync may change, to compare before and after."""
    return (
        list(Listing.objects.order_by("pk").values_list("key", "name", "vendor__name", "archived_at")),
        list(Version.objects.order_by("pk").values_list("listing__key", "number", "state", "components")),
        MirroredListing.objects.count(),
    )


def test_a_sync_mirrors_listings_and_versions_and_a_second_sync_changes_nothing(
    upstream, descriptor_server, source_for, settings
):
    publish_feed(descriptor_server, feed_pages(upstream.token, page_size=1, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")

    sync = mirror_sync(source=source)

    assert sync.outcome == "synced", sync.error
    assert (sync.pages, sync.listings_seen, sync.listings_created, sync.versions_created) == (2, 2, 2, 3)
    group = Listing.objects.get(key="up-acme-group")
    tool = Listing.objects.get(key="up-acme-tool")
    assert group.vendor.name == tool.vendor.name == "Upstream: 127.0.0.1"
    assert (group.scheme, group.name, tool.summary) == ("bundle", "ACME app group", "Tracks time")
    (shared,) = group.versions.all()
    assert (shared.number, shared.state, shared.source, shared.components) == (
        "1.0.0",
        "published",
        "mirror",
        COMPONENTS,
    )
    assert list(tool.versions.order_by("sort_key").values_list("number", "state", "build_number")) == [
        ("1.0.0", "superseded", 1),
        ("1.1.0", "published", 2),
    ]
    assert MirroredListing.objects.get(listing=tool).upstream_vendor == "ACME Apps"
    # The feed was read with the token, by the portal's bot.
    hit = descriptor_server.hits(FEED_PATH)[0]["headers"]
    assert hit["Authorization"] == f"Mirror {upstream.token}"
    assert hit["User-Agent"].startswith("Marketplacebot/1.0 (+")

    before = local_state()
    again = mirror_sync(source=source)
    assert again.outcome == "synced"
    assert (again.listings_created, again.listings_updated, again.versions_created) == (0, 0, 0)
    assert local_state() == before
    source.refresh_from_db()
    assert (source.failure_streak, source.last_error) == (0, "")
    assert source.last_success_at is not None


def test_an_unchanged_feed_answers_304_and_nothing_is_read(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings), etag='"feed-1"')
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    assert mirror_sync(source=source).outcome == "synced"
    source.refresh_from_db()
    assert source.etag == '"feed-1"'
    before = local_state()
    sync = mirror_sync(source=source)
    assert sync.outcome == "not_modified"
    assert descriptor_server.hits(FEED_PATH)[-1]["headers"]["If-None-Match"] == '"feed-1"'
    assert local_state() == before


def test_a_mirrored_app_group_update_reminds_the_site_admins_and_waits_for_their_one_click_upgrade(
    upstream, descriptor_server, source_for, settings, django_capture_on_commit_callbacks, client
):
    """Rainbond: the internal market reminds; the customer upgrades (the rollout does not apply it)."""
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    mirror_sync(source=source)
    group = Listing.objects.get(key="up-acme-group")
    admin = SiteAdminFactory(user__email="ops@customer.example.com")
    site = admin.site
    installation = installation_create(site=site, listing=group, version=group.versions.get())

    # The vendor shares MAJOR 2 with the same components: mirrored, but nothing to update on the site.
    upstream.share(COMPONENTS, major=2)
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    with django_capture_on_commit_callbacks(execute=True):
        sync = mirror_sync(source=source)
    assert sync.versions_created == 1
    assert group.versions.get(state="published").number == "2.0.0"
    assert site_updates(site=site)["updates_available"] == 0
    assert mail.outbox == []

    # Then a share that changes a component: the site's admins are reminded, nothing is applied.
    upstream.share([{"name": "api", "version": "2"}, COMPONENTS[1]], major=2)
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    with django_capture_on_commit_callbacks(execute=True):
        sync = mirror_sync(source=source)
    assert (sync.outcome, sync.versions_created) == ("synced", 1)
    newest = group.versions.get(state="published")
    assert (newest.number, newest.source) == ("2.1.0", "mirror")
    installation.refresh_from_db()
    assert installation.version.number == "1.0.0"
    assert not Upgrade.objects.filter(installation=installation).exists()
    request = UpgradeRequest.objects.get(installation=installation, to_version=newest, state="pending")
    assert [r["code"] for r in request.reasons] == ["internal_market_update"]
    [message] = mail.outbox
    assert message.to == ["ops@customer.example.com"]
    assert message.subject == f"ACME app group 2.1.0 is ready to upgrade on {site.name}"
    site_url = reverse("upgrades:site", kwargs={"pk": site.pk})
    assert site_url in message.body and "nothing is installed until you upgrade" in message.body

    # The site page shows the update with its components and a one-click Upgrade button.
    client.force_login(admin.user)
    page = client.get(site_url).content.decode()
    assert "arrived through the internal market" in page and "api: 1 &rarr; 2" in page
    upgrade_url = reverse("upgrades:installation-upgrade", kwargs={"site_pk": site.pk, "pk": installation.pk})
    assert f'action="{upgrade_url}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(upgrade_url)
    assert response.status_code == 302
    installation.refresh_from_db()
    request.refresh_from_db()
    assert installation.version_id == newest.pk and request.state == "approved"
    assert site_updates(site=site)["updates_available"] == 0


def test_other_mirrored_versions_follow_their_scheme(
    upstream, descriptor_server, source_for, settings, django_capture_on_commit_callbacks
):
    """A mirrored manual app without new scopes is applied by the rollout; one asking for a new scope waits."""
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    mirror_sync(source=source)
    tool = Listing.objects.get(key="up-acme-tool")
    site = SiteAdminFactory().site
    installation = installation_create(site=site, listing=tool, version=tool.versions.get(number="1.1.0"))

    Version.objects.filter(listing=upstream.tool, number="1.1.0").update(state="superseded")
    VersionFactory(
        listing=upstream.tool, number="1.1.1", state="published", published_at=timezone.now(), scopes=["read:jira-work"]
    )
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    with django_capture_on_commit_callbacks(execute=True):
        mirror_sync(source=source)
    installation.refresh_from_db()
    assert installation.version.number == "1.1.1"
    assert not UpgradeRequest.objects.exists()

    Version.objects.filter(listing=upstream.tool, number="1.1.1").update(state="superseded")
    VersionFactory(
        listing=upstream.tool,
        number="1.2.1",
        state="published",
        published_at=timezone.now(),
        scopes=["read:jira-work", "write:jira-work"],
    )
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    with django_capture_on_commit_callbacks(execute=True):
        mirror_sync(source=source)
    installation.refresh_from_db()
    assert installation.version.number == "1.1.1"
    request = UpgradeRequest.objects.get(installation=installation)
    assert [r["code"] for r in request.reasons] == ["scope_added"]


def test_a_listing_gone_from_the_feed_is_archived_and_comes_back(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    mirror_sync(source=source)
    upstream.tool.visibility = "private"
    upstream.tool.save()
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    sync = mirror_sync(source=source)
    assert sync.listings_archived == 1
    assert Listing.objects.get(key="up-acme-tool").archived_at is not None
    upstream.tool.visibility = "public"
    upstream.tool.name = "ACME tool 2"
    upstream.tool.save()
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    sync = mirror_sync(source=source)
    assert (sync.listings_updated, sync.listings_archived) == (1, 0)
    back = Listing.objects.get(key="up-acme-tool")
    assert back.archived_at is None and back.name == "ACME tool 2"


def test_without_a_prefix_the_upstream_keys_are_kept(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    # The upstream's rows share this test database: move them out of the way.
    Listing.objects.filter(vendor=upstream.group.vendor).update(key=prefixed_key("old-"))
    source = source_for(descriptor_server, upstream.token)
    sync = mirror_sync(source=source)
    assert sync.outcome == "synced", sync.error
    assert Listing.objects.get(key="acme-group").vendor.name == "Upstream: 127.0.0.1"


def prefixed_key(prefix: str):
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    return Concat(Value(prefix), F("key"))


def test_a_key_held_by_a_local_listing_is_refused_not_overwritten(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    local = ListingFactory(key="up-acme-tool", name="Our own tool")
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")

    sync = mirror_sync(source=source)

    assert sync.outcome == "partial"
    assert sync.listings_created == 1  # the app group is mirrored all the same
    (error,) = sync.errors
    assert (error["listing"], error["field"]) == ("acme-tool", "key")
    assert "already exists" in error["message"] and "refused to overwrite" in error["message"]
    local.refresh_from_db()
    assert (local.name, local.vendor.name, local.versions.count()) == ("Our own tool", local.vendor.name, 0)
    assert not MirroredListing.objects.filter(upstream_key="acme-tool").exists()
    source.refresh_from_db()
    assert source.failure_streak == 1 and "refused" in source.last_error
    assert source.etag == ""  # the next sync reads the feed again


def test_a_bad_scope_fails_the_whole_sync_naming_the_field(upstream, descriptor_server, source_for, settings):
    pages = feed_pages(upstream.token, settings=settings)
    tool = next(item for item in pages[0][1]["results"] if item["key"] == "acme-tool")
    tool["versions"][1]["scopes"] = ["x" * 101]
    publish_feed(descriptor_server, pages)
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    sync = mirror_sync(source=source)
    assert sync.outcome == "failed"
    assert "results[1].versions[1].scopes[0]" in sync.error
    assert not Listing.objects.filter(key__startswith="up-").exists()


def test_a_version_a_local_rule_refuses_leaves_only_its_listing_untouched(
    upstream, descriptor_server, source_for, settings
):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    mirror_sync(source=source)
    upstream.share([{"name": "api", "version": "3"}])
    pages = feed_pages(upstream.token, settings=settings)
    tool = next(item for item in pages[0][1]["results"] if item["key"] == "acme-tool")
    # A hand-made feed: a lower number released after 1.1.0 (a real upstream refuses that).
    tool["versions"].append({**tool["versions"][0], "number": "1.0.5", "published_at": "2099-01-01T00:00:00Z"})
    publish_feed(descriptor_server, pages)
    before = list(Version.objects.filter(listing__key="up-acme-tool").values_list("number", "state"))

    sync = mirror_sync(source=source)

    assert (sync.outcome, sync.versions_created) == ("partial", 1)  # the app group's new share
    (error,) = sync.errors
    assert (error["listing"], error["field"]) == ("acme-tool", "number")
    assert error["message"].startswith("acme-tool@1.0.5: Version 1.0.5 must be greater")
    assert list(Version.objects.filter(listing__key="up-acme-tool").values_list("number", "state")) == before
    assert Listing.objects.get(key="up-acme-group").versions.get(state="published").number == "1.1.0"


def test_listings_mirrored_here_are_not_passed_on(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    mirror_sync(source=source_for(descriptor_server, upstream.token, key_prefix="up-"))
    assert Listing.objects.filter(key__startswith="up-").count() == 2
    keys = [item["key"] for _, doc in feed_pages(upstream.token, settings=settings) for item in doc["results"]]
    assert keys == ["acme-group", "acme-tool"]


def _rewrite(pages, fn):
    fn(pages)
    return pages


BAD_FEEDS = {
    "not json": (lambda s, p: s.serve(FEED_PATH, "{not json"), "document: page 1 is not JSON"),
    "bad field": (
        lambda s, p: s.serve(
            FEED_PATH,
            json.dumps(_rewrite(p[0][1], lambda d: d["results"][0]["versions"][0].pop("components"))),
        ),
        "results[0].versions[0]: 'components' is a required property",
    ),
    "http error": (
        lambda s, p: s.serve(FEED_PATH, "boom", status=500),
        "http_error: The mirror feed URL answered HTTP 500",
    ),
    "token refused": (lambda s, p: s.serve(FEED_PATH, "{}", status=401), "HTTP 401"),
    "oversized": (lambda s, p: s.serve(FEED_PATH, json.dumps(p[0][1]) + " " * 5000), "too_large: The mirror feed is"),
    "redirect to a refused address": (
        lambda s, p: s.redirect(FEED_PATH, "http://169.254.169.254/latest/meta-data/"),
        "refused_address: Refused to fetch from 169.254.169.254",
    ),
    "next leaves the upstream": (
        lambda s, p: s.serve(
            FEED_PATH, json.dumps({**p[0][1], "next": "http://198.51.100.7/api/v1/mirror/listings?page=2"})
        ),
        "next: the page link",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FEEDS))
def test_bad_feeds_are_recorded_and_change_nothing(upstream, descriptor_server, source_for, settings, case):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    assert mirror_sync(source=source).outcome == "synced"
    upstream.share([{"name": "api", "version": "9"}])  # there would be something new to mirror
    pages = feed_pages(upstream.token, settings=settings)
    settings.MIRROR_MAX_BYTES = len(json.dumps(pages[0][1])) + 1000
    serve, words = BAD_FEEDS[case]
    serve(descriptor_server, pages)
    before = local_state()

    sync = mirror_sync(source=source)

    assert sync.outcome == "failed"
    assert words in sync.error
    assert local_state() == before
    source.refresh_from_db()
    assert source.failure_streak == 1 and words in source.last_error
    assert sorted(MirrorSync.objects.filter(source=source).values_list("outcome", flat=True)) == ["failed", "synced"]


def test_a_feed_that_changes_between_pages_is_read_again_next_time(upstream, descriptor_server, source_for, settings):
    pages = feed_pages(upstream.token, page_size=1, settings=settings)
    pages[1][1]["snapshot"] = "f" * 32
    publish_feed(descriptor_server, pages)
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    sync = mirror_sync(source=source)
    assert sync.outcome == "failed" and sync.error.startswith("snapshot: the feed changed")
    assert not Listing.objects.filter(key__startswith="up-").exists()


def test_the_token_is_not_sent_to_another_origin(upstream, descriptor_server, source_for, settings):
    seen: list[dict] = []
    document = json.dumps(feed_pages(upstream.token, settings=settings)[0][1]).encode()

    class Other(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

    with running(ThreadingHTTPServer(("127.0.0.1", 0), Other)) as other:
        descriptor_server.redirect(FEED_PATH, f"http://127.0.0.1:{other.server_address[1]}/feed")
        sync = mirror_sync(source=source_for(descriptor_server, upstream.token, key_prefix="up-"))
    assert descriptor_server.hits(FEED_PATH)[0]["headers"]["Authorization"] == f"Mirror {upstream.token}"
    assert len(seen) == 1 and "Authorization" not in seen[0]
    assert sync.outcome == "synced"


def test_a_disabled_source_is_not_synced_on_schedule(upstream, descriptor_server, source_for):
    source = source_for(descriptor_server, upstream.token, enabled=False)
    with pytest.raises(ApplicationError) as exc:
        mirror_sync(source=source)
    assert exc.value.field == "enabled"
    assert not MirrorSync.objects.exists() and descriptor_server.requests == []


def test_a_connect_listing_is_mirrored_as_a_manual_one_that_nothing_polls(
    upstream, descriptor_server, source_for, settings
):
    from django.utils import timezone

    from tests.factories import VersionFactory
    from versions.services.automatic import pollable_listings

    connect = ListingFactory(
        key="acme-sync",
        scheme="connect",
        vendor=upstream.group.vendor,
        descriptor_url="https://acme.example.com/d.json",
    )
    VersionFactory(listing=connect, number="1.4.0", state="published", published_at=timezone.now())
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    assert mirror_sync(source=source).outcome == "synced"
    mirrored = Listing.objects.get(key="up-acme-sync")
    assert (mirrored.scheme, mirrored.descriptor_url) == ("manual", "")
    assert mirrored.versions.get().number == "1.4.0"
    assert not pollable_listings().filter(pk=mirrored.pk).exists()
    again = mirror_sync(source=source)
    assert (again.outcome, again.versions_created, again.errors) == ("synced", 0, [])


def test_a_mirrored_move_to_paid_is_released_but_each_site_is_asked(
    upstream, descriptor_server, source_for, settings, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from tests.factories import VersionFactory

    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    mirror_sync(source=source)
    tool = Listing.objects.get(key="up-acme-tool")
    installation = installation_create(site=SiteFactory(), listing=tool, version=tool.versions.get(number="1.1.0"))
    upstream.tool.versions.filter(number="1.1.0").update(state="superseded")
    VersionFactory(
        listing=upstream.tool,
        number="2.0.0",
        state="published",
        pricing="paid",
        scopes=["read:jira-work"],
        published_at=timezone.now(),
    )
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    with django_capture_on_commit_callbacks(execute=True):
        sync = mirror_sync(source=source)
    paid = tool.versions.get(number="2.0.0")
    assert (sync.outcome, paid.state, paid.pricing) == ("synced", "published", "paid")  # no local review
    installation.refresh_from_db()
    assert installation.version.number == "1.1.0"  # waits for the site's consent
    request = UpgradeRequest.objects.get(installation=installation)
    assert request.to_version_id == paid.pk
