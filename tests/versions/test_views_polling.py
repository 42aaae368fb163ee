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
    assert response["Location"] == "/portal/listings/acme-connect/"
    poll = DescriptorPoll.objects.get(listing=listing)
    assert (poll.trigger, poll.outcome, poll.requested_by) == ("manual", "version_created", owner)
    page = client.get("/portal/listings/acme-connect/polls/")
    assert b"New version" in page.content and b"1.0.0" in page.content
    next_poll = listing.poll_state.next_poll_at
    assert f"Next scheduled poll: {next_poll:%Y-%m-%d %H:%M} UTC" in page.content.decode()


def test_poll_now_refuses_outside_redirects_and_strangers(client, owner, descriptor_server):
    ListingFactory(
        key="acme-connect", scheme="connect", descriptor_url="https://e.example/d.json", vendor=owner.vendors.get()
    )
    client.force_login(owner)
    response = client.post("/portal/listings/acme-connect/poll-now/", {"next": "https://evil.example/"})
    assert response["Location"] == "/portal/listings/acme-connect/polls/"
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
