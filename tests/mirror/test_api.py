"""The mirror feed (upstream side): only public released data, a mirror token, a fixed number of queries."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from mirror.feed import FEED_PATH, validate_feed_page
from mirror.models import MirrorToken
from mirror.services import mirror_token_create, mirror_token_revoke
from tests.factories import ListingFactory, VersionFactory
from tests.mirror.upstream import COMPONENTS, feed_pages

pytestmark = pytest.mark.django_db


def client_with(token: str | None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Mirror {token}")
    return client


def test_the_feed_shows_public_listings_and_their_released_versions_only(upstream):
    response = client_with(upstream.token).get(FEED_PATH)
    assert response.status_code == 200
    body = response.json()
    assert [item["key"] for item in body["results"]] == ["acme-group", "acme-tool"]
    group, tool = body["results"]
    assert (group["scheme"], group["vendor"], group["name"]) == ("bundle", "ACME Apps", "ACME app group")
    assert [(v["number"], v["state"], v["components"]) for v in group["versions"]] == [
        ("1.0.0", "published", COMPONENTS)
    ]
    assert [(v["number"], v["state"]) for v in tool["versions"]] == [("1.0.0", "superseded"), ("1.1.0", "published")]
    assert tool["summary"] == "Tracks time" and tool["versions"][1]["update_notes"] == "Faster reports."
    text = response.content.decode()
    for secret in (
        "1.2.0",
        "1.3.0",
        "acme-private",
        "acme-archived",
        "acme-ocp",
        "secret@acme",
        "members",
        "descriptor",
    ):
        assert secret not in text
    # What the upstream serves is exactly what a downstream accepts.
    page = validate_feed_page(body)
    assert page.count == 2 and page.next is None


@pytest.mark.parametrize("header", [None, "Mirror wrong-token", "Mirror", "Token abc", "Site abc"])
def test_a_mirror_token_is_required(upstream, header, admin_client):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(FEED_PATH)
    assert response.status_code in (401, 403)
    assert "results" not in response.json()
    # Not even a signed-in superuser reads the feed without a token.
    assert admin_client.get(FEED_PATH).status_code in (401, 403)


def test_a_revoked_token_is_refused(upstream):
    token = MirrorToken.objects.get()
    mirror_token_revoke(token=token)
    response = client_with(upstream.token).get(FEED_PATH)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_tokens_are_stored_as_digests_and_need_a_name(db):
    token, raw = mirror_token_create(name="internal market")
    assert raw not in (token.digest, token.prefix) and raw.startswith(token.prefix) and len(token.digest) == 64
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        mirror_token_create(name="  ")
    assert exc.value.field == "name"


def test_pages_carry_one_snapshot_and_an_unchanged_feed_answers_304(upstream, settings):
    pages = feed_pages(upstream.token, page_size=1, settings=settings)
    assert [p for p, _ in pages] == [FEED_PATH, FEED_PATH + "?page=2"]
    assert len({doc["snapshot"] for _, doc in pages}) == 1
    client = client_with(upstream.token)
    etag = client.get(FEED_PATH)["ETag"]
    assert client.get(FEED_PATH, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(FEED_PATH + "?page=2", HTTP_IF_NONE_MATCH=etag).status_code == 200  # another page, another tag
    # A new share changes the snapshot, so the old tag no longer matches.
    upstream.share([{"name": "api", "version": "2"}, COMPONENTS[1]])
    fresh = client.get(FEED_PATH, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    assert fresh.json()["snapshot"] != pages[0][1]["snapshot"]


def test_renaming_or_hiding_a_listing_changes_the_snapshot(upstream):
    client = client_with(upstream.token)
    before = client.get(FEED_PATH).json()["snapshot"]
    upstream.tool.name = "ACME tool 2"
    upstream.tool.save()
    renamed = client.get(FEED_PATH).json()["snapshot"]
    assert renamed != before
    upstream.tool.visibility = "private"
    upstream.tool.save()
    hidden = client.get(FEED_PATH).json()
    assert hidden["snapshot"] != renamed and [r["key"] for r in hidden["results"]] == ["acme-group"]


def _grow(n: int, vendor) -> None:
    now = timezone.now()
    for i in range(n):
        listing = ListingFactory(key=f"bulk-{n}-{i}", vendor=vendor)
        for j in range(3):
            VersionFactory(
                listing=listing, number=f"1.0.{j}", state="superseded" if j < 2 else "published", published_at=now
            )


def test_the_feed_reads_a_fixed_number_of_queries(upstream, django_assert_max_num_queries):
    client = client_with(upstream.token)
    vendor = upstream.group.vendor
    # token, snapshot, count, listings (+vendor), versions
    with django_assert_max_num_queries(5):
        small = client.get(FEED_PATH).json()
    _grow(30, vendor)
    with django_assert_max_num_queries(5):
        big = client.get(FEED_PATH).json()
    assert small["count"] == 2 and big["count"] == 32
    assert sum(len(r["versions"]) for r in big["results"]) == sum(len(r["versions"]) for r in small["results"]) + 90
