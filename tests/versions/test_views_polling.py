"""The vendor's poll history and "Poll now", and the development demo descriptor."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from tests.factories import ListingFactory, MembershipFactory, UserFactory
from versions.models import DescriptorPoll

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # "Poll now" is throttled per listing through the cache
    yield
    cache.clear()


@pytest.fixture
def owner():
    return MembershipFactory(role="owner").user


def test_poll_now_polls_and_the_history_shows_it(client, owner, descriptor_server, django_capture_on_commit_callbacks):
    url = descriptor_server.serve("/d.json", json.dumps({"key": "acme", "scopes": ["read:jira-work"]}))
    listing = ListingFactory(key="acme-connect", scheme="connect", descriptor_url=url, vendor=owner.vendors.get())
    client.force_login(owner)
    page = client.get("/portal/listings/acme-connect/polls/")
    assert page.status_code == 200
    assert b"No polls yet." in page.content and b"Poll now" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/listings/acme-connect/poll-now/", {"next": "/portal/listings/acme-connect/"})
    assert response.status_code == 302
    # The page watches for a poll newer than the last one before "Poll now" (none: 0).
    assert response["Location"] == "/portal/listings/acme-connect/?poll_after=0#descriptor-polls"
    poll = DescriptorPoll.objects.get(listing=listing)
    assert (poll.trigger, poll.outcome, poll.requested_by) == ("manual", "version_created", owner)
    page = client.get("/portal/listings/acme-connect/polls/")
    assert b"New version" in page.content and b"1.0.0" in page.content
    next_poll = listing.poll_state.next_poll_at
    assert (
        f'Next scheduled poll: <time datetime="{next_poll:%Y-%m-%dT%H:%M:%S}+00:00">{next_poll:%Y-%m-%d %H:%M} UTC</time>'
        in page.content.decode()
    )
    html = page.content.decode()
    assert f'<a href="/portal/versions/{poll.version_id}/">1.0.0</a>' in html  # the number links to its version
    assert "MAJOR: the first version made from a descriptor is 1.0.0." in html


def test_poll_now_refuses_outside_redirects_and_strangers(client, owner, descriptor_server):
    ListingFactory(
        key="acme-connect", scheme="connect", descriptor_url="https://e.example/d.json", vendor=owner.vendors.get()
    )
    client.force_login(owner)
    response = client.post("/portal/listings/acme-connect/poll-now/", {"next": "https://evil.example/"})
    assert response["Location"] == "/portal/listings/acme-connect/polls/?poll_after=0#descriptor-polls"
    assert client.get("/portal/listings/acme-connect/poll-now/").status_code == 405
    client.force_login(UserFactory())
    assert client.post("/portal/listings/acme-connect/poll-now/").status_code == 404
    assert client.get("/portal/listings/acme-connect/polls/").status_code == 404
    assert DescriptorPoll.objects.count() == 0


def test_demo_descriptor_is_served_only_in_development(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    (tmp_path / "demo" / "descriptors").mkdir(parents=True)
    (tmp_path / "demo" / "descriptors" / "demo-app.json").write_text('{"key": "demo-app"}')
    settings.DEBUG, settings.DESCRIPTOR_ALLOW_LOOPBACK = False, True
    assert client.get("/demo/descriptors/demo-app.json").status_code == 404
    settings.DEBUG = True
    response = client.get("/demo/descriptors/demo-app.json")
    assert response.status_code == 200
    assert response.json() == {"key": "demo-app"}
    assert client.get("/demo/descriptors/demo-app.json", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get("/demo/descriptors/..%2Fsecret.json").status_code == 404


def test_admin_lists_polls_read_only(client, owner):
    from django.contrib.auth import get_user_model

    listing = ListingFactory(scheme="connect", descriptor_url="https://e.example/d.json", vendor=owner.vendors.get())
    poll = DescriptorPoll.objects.create(
        listing=listing, url=listing.descriptor_url, outcome="failed", error_kind="timeout", error="Timed out."
    )
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pass")
    client.force_login(admin)
    page = client.get("/admin/versions/descriptorpoll/")
    assert page.status_code == 200
    assert listing.key.encode() in page.content and b"timeout" in page.content
    detail = client.get(f"/admin/versions/descriptorpoll/{poll.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content  # read-only: no save button
    assert client.get("/admin/versions/descriptorpoll/add/").status_code == 403


def test_listing_page_shows_the_poll_panel_with_poll_now(client, owner):
    listing = ListingFactory(
        key="acme-connect", scheme="connect", descriptor_url="https://e.example/d.json", vendor=owner.vendors.get()
    )
    DescriptorPoll.objects.create(
        listing=listing, url=listing.descriptor_url, outcome="failed", error_kind="http_error", error="HTTP 503"
    )
    client.force_login(owner)
    page = client.get("/portal/listings/acme-connect/")
    assert page.status_code == 200
    assert b"Descriptor polling" in page.content and b"HTTP 503" in page.content
    assert b'action="/portal/listings/acme-connect/poll-now/"' in page.content
    assert b'name="next" value="/portal/listings/acme-connect/"' in page.content
    manual = ListingFactory(key="acme-manual", scheme="manual", vendor=owner.vendors.get())
    assert b"Poll now" not in client.get(f"/portal/listings/{manual.key}/").content


def test_after_poll_now_the_page_waits_and_the_live_endpoint_says_when_the_poll_ended(client, owner):
    listing = ListingFactory(
        key="acme-connect", scheme="connect", descriptor_url="https://e.example/d.json", vendor=owner.vendors.get()
    )
    earlier = DescriptorPoll.objects.create(listing=listing, url=listing.descriptor_url, outcome="unchanged")
    client.force_login(owner)
    with_wait = client.get(f"/portal/listings/acme-connect/?poll_after={earlier.pk}").content.decode()
    assert 'id="poll-live"' in with_wait and "/static/js/polls.js" in with_wait
    assert f"/portal/listings/acme-connect/polls/live?after={earlier.pk}" in with_wait
    assert "<script>" not in with_wait  # the CSP allows no inline script

    live = client.get(f"/portal/listings/acme-connect/polls/live?after={earlier.pk}")
    assert live.status_code == 200 and live.json()["done"] is False
    finished = DescriptorPoll.objects.create(
        listing=listing,
        url=listing.descriptor_url,
        outcome="failed",
        error_kind="network",
        error="The server at e.example refused the connection.",
    )
    live = client.get(f"/portal/listings/acme-connect/polls/live?after={earlier.pk}").json()
    assert live["done"] is True
    assert f'data-poll="{finished.pk}"' in live["html"] and "refused the connection" in live["html"]
    assert 'id="poll-live"' not in live["html"]
    assert (
        'id="poll-live"' not in client.get(f"/portal/listings/acme-connect/?poll_after={earlier.pk}").content.decode()
    )


def test_the_live_endpoint_is_the_vendors_own(client, owner):
    ListingFactory(
        key="acme-connect", scheme="connect", descriptor_url="https://e.example/d.json", vendor=owner.vendors.get()
    )
    client.force_login(UserFactory())
    assert client.get("/portal/listings/acme-connect/polls/live?after=0").status_code == 404


def test_a_poll_row_shows_the_descriptor_diff_and_why_it_bumped(
    client, owner, descriptor_server, django_capture_on_commit_callbacks
):
    from versions.models import Version

    url = descriptor_server.serve("/d.json", json.dumps({"key": "acme", "apiVersion": 1, "scopes": ["read:jira-work"]}))
    listing = ListingFactory(key="acme-connect", scheme="connect", descriptor_url=url, vendor=owner.vendors.get())
    from versions.services.automatic import listing_poll_descriptor

    with django_capture_on_commit_callbacks(execute=True):
        first = listing_poll_descriptor(listing=listing)
    Version.objects.filter(pk=first.version_id).update(state="published")
    descriptor_server.serve(
        "/d.json",
        json.dumps({"key": "acme", "apiVersion": 1, "scopes": ["read:jira-work", "write:jira-work"], "name": "Acme"}),
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = listing_poll_descriptor(listing=listing)
    assert second.outcome == "version_created" and second.bump == "minor"
    assert second.bump_reason.startswith("MINOR because scope added: on connect a scope or price change is a MINOR")
    paths = {c["path"]: c for c in second.changes}
    assert paths["scopes"]["before"] == '["read:jira-work"]'
    assert paths["scopes"]["after"] == '["read:jira-work","write:jira-work"]'
    assert paths["name"]["change"] == "added"
    client.force_login(owner)
    html = client.get("/portal/listings/acme-connect/polls/").content.decode()
    assert "MINOR because scope added" in html
    assert "<code>name</code> added: <code>&quot;Acme&quot;</code>" in html
    assert f'<a href="/portal/versions/{second.version_id}/">1.1.0</a>' in html
