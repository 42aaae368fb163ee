"""An upstream portal for the mirror tests: its catalogue (what the feed shows and what it
must never show), its mirror token, and its feed pages served on the real HTTP server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from mirror.feed import FEED_PATH
from mirror.services import mirror_token_create
from tests.factories import ListingFactory, MembershipFactory, VersionFactory
from tests.http_servers import DescriptorServer
from versions.services.bundles import bundle_share

COMPONENTS = [{"name": "api", "version": "1"}, {"name": "ui", "version": "5.2"}]


@dataclass
class Upstream:
    """The upstream portal's rows (in the same test database) and its vendor's owner."""

    owner: object
    group: object  # a bundle listing (app group)
    tool: object  # a manual listing
    token: str = ""
    hidden: list = field(default_factory=list)  # what the feed must never show

    def share(self, components, major=1):
        version, _changes = bundle_share(listing=self.group, actor=self.owner, major=major, components=components)
        return version


def make_upstream() -> Upstream:
    owner = MembershipFactory(role="owner", vendor__name="ACME Apps").user
    vendor = owner.vendors.get()
    group = ListingFactory(key="acme-group", name="ACME app group", scheme="bundle", vendor=vendor)
    tool = ListingFactory(key="acme-tool", name="ACME tool", summary="Tracks time", vendor=vendor)
    upstream = Upstream(owner=owner, group=group, tool=tool)
    upstream.share(COMPONENTS)
    earlier = timezone.now() - timedelta(days=2)
    VersionFactory(listing=tool, number="1.0.0", state="superseded", published_at=earlier, scopes=["read:jira-work"])
    VersionFactory(
        listing=tool,
        number="1.1.0",
        state="published",
        published_at=earlier + timedelta(days=1),
        scopes=["read:jira-work"],
        update_notes="Faster reports.",
    )
    # Never in the feed: a draft, a version in review, a private listing, an archived one, OCP's private audiences.
    upstream.hidden = [
        VersionFactory(listing=tool, number="1.2.0", state="draft", members=["secret@acme.example.com"]),
        VersionFactory(listing=tool, number="1.3.0", state="in_review"),
        VersionFactory(
            listing=ListingFactory(key="acme-private", vendor=vendor, visibility="private"),
            number="1.0.0",
            state="published",
            published_at=earlier,
        ),
        VersionFactory(
            listing=ListingFactory(key="acme-archived", vendor=vendor, archived_at=earlier),
            number="1.0.0",
            state="published",
            published_at=earlier,
        ),
        VersionFactory(
            listing=ListingFactory(key="acme-ocp", vendor=vendor, scheme="ocp"),
            number="2.0.0-dev.1",
            channel="dev",
            state="published",
            published_at=earlier,
        ),
    ]
    _, upstream.token = mirror_token_create(name="internal market")
    return upstream


def feed_pages(token: str, *, page_size: int | None = None, settings=None) -> list[tuple[str, dict]]:
    """Every page of the feed as the real view answers it: [(path, document), ...]."""
    if page_size is not None:
        settings.MIRROR_FEED_PAGE_SIZE = page_size
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Mirror {token}")
    pages, path = [], FEED_PATH
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.content
        document = response.json()
        pages.append((path, document))
        path = document["next"].removeprefix("http://testserver") if document["next"] else None
    return pages


def publish_feed(server: DescriptorServer, pages: list[tuple[str, dict]], *, etag: str = "") -> None:
    """Serve the pages on the real HTTP server, their `next` links pointing at it."""
    for index, (path, document) in enumerate(pages):
        body = dict(document)
        if body["next"]:
            body["next"] = server.url(body["next"].removeprefix("http://testserver"))
        server.serve(path, json.dumps(body), etag=etag if index == 0 else "")
