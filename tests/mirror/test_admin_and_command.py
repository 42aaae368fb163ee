"""The admin (tokens, "sync now", history), the mirror_sync command and the beat task."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.tokens import token_digest as mirror_token_digest
from marketplace.models import Listing
from mirror.feed import FEED_PATH
from mirror.models import MirrorSource, MirrorSync, MirrorToken
from mirror.tasks import poll_mirror_sources
from tests.mirror.upstream import feed_pages, publish_feed

pytestmark = pytest.mark.django_db


def test_the_admin_makes_a_token_and_shows_it_once(admin_client):
    response = admin_client.post("/admin/mirror/mirrortoken/add/", {"name": "ACME internal market"}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    raw = re.search(r"shown once, give it to the downstream portal\): ([A-Za-z0-9_\-]+)", text).group(1)
    token = MirrorToken.objects.get()
    assert token.digest == mirror_token_digest(raw) and token.name == "ACME internal market"
    assert raw not in admin_client.get(f"/admin/mirror/mirrortoken/{token.pk}/change/").content.decode()


def test_sync_now_reports_the_outcome_and_the_history_lists_it(
    admin_client, upstream, descriptor_server, source_for, settings
):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    good = source_for(descriptor_server, upstream.token, key_prefix="up-", name="Good upstream")
    bad = source_for(descriptor_server, "wrong", key_prefix="bad-", name="Bad upstream")
    bad.base_url = descriptor_server.url("/nowhere")
    bad.save()

    response = admin_client.post(
        "/admin/mirror/mirrorsource/", {"action": "sync_now", "_selected_action": [good.pk, bad.pk]}, follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Good upstream: Synced - 2 listings seen, 2 created") for m in messages), messages
    assert any(m.startswith("Bad upstream: Failed - failed: http_error") and "HTTP 404" in m for m in messages)
    assert Listing.objects.filter(key__startswith="up-").count() == 2
    history = admin_client.get("/admin/mirror/mirrorsync/").content.decode()
    assert "Good upstream" in history and "Bad upstream" in history and "Failed" in history
    page = admin_client.get(f"/admin/mirror/mirrorsource/{good.pk}/change/").content.decode()
    assert "acme-group" in page and "up-acme-group" in page  # the mapped listings
    assert "Synced (Admin)" in page and "All syncs of this source" in page
    assert upstream.token not in page  # the credential is never rendered back


INLINE = {"listings-TOTAL_FORMS": "0", "listings-INITIAL_FORMS": "0"}


def test_the_source_form_keeps_the_token_when_left_empty_and_requires_one_at_first(admin_client, db):
    response = admin_client.post(
        "/admin/mirror/mirrorsource/add/",
        {"base_url": "https://market.example.com", "token": "", "enabled": "on", **INLINE},
    )
    assert response.status_code == 200 and "A mirror token is required" in response.content.decode()
    admin_client.post(
        "/admin/mirror/mirrorsource/add/",
        {
            "base_url": "https://market.example.com",
            "token": "s3cret-token",
            "key_prefix": "up-",
            "enabled": "on",
            **INLINE,
        },
    )
    source = MirrorSource.objects.get()
    assert (source.token, source.key_prefix) == ("s3cret-token", "up-")
    admin_client.post(
        f"/admin/mirror/mirrorsource/{source.pk}/change/",
        {
            "base_url": "https://market.example.com",
            "token": "",
            "name": "ACME",
            "key_prefix": "up-",
            "enabled": "on",
            **INLINE,
        },
    )
    source.refresh_from_db()
    assert (source.name, source.token) == ("ACME", "s3cret-token")


def test_the_command_prints_what_each_sync_did(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    source = source_for(descriptor_server, upstream.token, key_prefix="up-")
    out = StringIO()
    call_command("mirror_sync", stdout=out)
    assert (
        f"127.0.0.1 (#{source.pk}): Synced - 2 listings seen, 2 created, 0 updated, 0 archived, 3 versions created"
        in (out.getvalue())
    )
    out = StringIO()
    call_command("mirror_sync", "--source", str(source.pk), stdout=out)
    assert "0 created, 0 updated, 0 archived, 0 versions created" in out.getvalue()
    with pytest.raises(CommandError, match="No mirror source with id 999"):
        call_command("mirror_sync", "--source", "999")


def test_the_command_fails_when_a_source_fails(upstream, descriptor_server, source_for):
    descriptor_server.serve(FEED_PATH, "nope", status=503)
    source_for(descriptor_server, upstream.token)
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 sources had errors"):
        call_command("mirror_sync", stdout=out)
    assert "HTTP 503" in out.getvalue()


def test_the_beat_task_syncs_enabled_sources_only(upstream, descriptor_server, source_for, settings):
    publish_feed(descriptor_server, feed_pages(upstream.token, settings=settings))
    enabled = source_for(descriptor_server, upstream.token, key_prefix="up-")
    source_for(descriptor_server, upstream.token, key_prefix="off-", enabled=False)
    assert poll_mirror_sources.delay().get() == 1  # eager in the unit tests
    assert list(MirrorSync.objects.values_list("source_id", "trigger", "outcome")) == [
        (enabled.pk, "schedule", "synced")
    ]
    assert not Listing.objects.filter(key__startswith="off-").exists()


def test_the_task_routes_to_the_polling_queue_on_the_beat_schedule(settings):
    from config.celery import app

    route = app.amqp.router.route({}, "mirror.tasks.poll_mirror_source")
    assert route["queue"].name == "polling"
    entry = settings.CELERY_BEAT_SCHEDULE["mirror-poll-sources"]
    assert entry["task"] == "mirror.tasks.poll_mirror_sources"
    assert entry["schedule"].total_seconds() == 3600


def test_the_token_command_prints_a_working_token(db):
    out = StringIO()
    call_command("mirror_token", "ACME internal market", stdout=out)
    raw = out.getvalue().strip()
    assert MirrorToken.objects.get().digest == mirror_token_digest(raw)
    with pytest.raises(CommandError, match="Name the portal"):
        call_command("mirror_token", " ")


def test_the_beat_task_forgets_old_syncs(upstream, descriptor_server, source_for, settings):
    from datetime import timedelta

    from django.utils import timezone

    source = source_for(descriptor_server, upstream.token, enabled=False)
    old = MirrorSync.objects.create(source=source, outcome="synced")
    recent = MirrorSync.objects.create(source=source, outcome="failed")
    MirrorSync.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(days=91))
    poll_mirror_sources.delay()
    assert list(MirrorSync.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_bad_key_prefix_is_refused_with_the_rule(admin_client, db):
    response = admin_client.post(
        "/admin/mirror/mirrorsource/add/",
        {"base_url": "https://market.example.com", "token": "t", "key_prefix": "UP_", "enabled": "on", **INLINE},
    )
    assert "Key prefix: a lower-case letter" in response.content.decode()
    assert not MirrorSource.objects.exists()
