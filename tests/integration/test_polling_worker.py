"""Polling through the real parts: a Celery worker process on Redis, PostgreSQL,
a descriptor server on 127.0.0.1 and an SMTP server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from django.core.cache import cache

from tests.factories import ListingFactory, MembershipFactory
from tests.integration.conftest import SmtpServer, wait_until
from tests.versions.descriptor_server import descriptor_server_fixture  # noqa: F401 - the descriptor_server fixture
from versions.models import Version
from versions.models_polling import DescriptorPoll
from versions.services_automatic import listing_request_poll


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """The conftest's SMTP server, on a port chosen up front.

    aiosmtpd's Controller(port=0) checks readiness by connecting to port 0, which
    fails; overriding the fixture here keeps the worker fixture's EMAIL_URL wiring.
    """
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SmtpServer(host="127.0.0.1", port=port)

    class Handler:
        async def handle_DATA(self, smtp, session, envelope):
            server.messages.append(message_from_bytes(envelope.original_content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def worker(celery_worker_process):
    """The worker fixture, with the producer pool rebuilt for Redis.

    The fixture's `app.pool.force_close_all()` leaves a closed pool in place
    ("Acquire on closed pool" on the first publish); forget it so the next
    publish connects to the fixture's broker.
    """
    from kombu import pools

    from marketplace.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    return celery_worker_process


def descriptor(**fields) -> str:
    return json.dumps({"key": "acme", "scopes": ["read:jira-work"], "modules": {}, **fields})


def test_poll_now_runs_on_the_worker_and_mails_the_vendor(worker, smtp_server, descriptor_server):
    owner = MembershipFactory(role="owner", vendor__contact_email="team@acme.example.com").user
    url = descriptor_server.serve("/acme.json", descriptor(), etag='"v1"')
    listing = ListingFactory(key="acme-connect", scheme="connect", descriptor_url=url, vendor=owner.vendors.get())

    listing_request_poll(listing=listing, actor=owner)
    first = wait_until(lambda: DescriptorPoll.objects.filter(listing=listing).first(), timeout=60)
    assert first is not None, "the worker did not poll"
    assert (first.outcome, first.trigger, first.requested_by_id) == ("version_created", "manual", owner.pk)
    assert first.version.number == "1.0.0"
    assert descriptor_server.hits("/acme.json")[0]["headers"]["User-Agent"].startswith("MarketplacePortalBot/")

    descriptor_server.serve("/acme.json", descriptor(scopes=["read:jira-work", "write:jira-work"]), etag='"v2"')
    cache.clear()  # "Poll now" is throttled per listing
    listing_request_poll(listing=listing, actor=owner)
    second = wait_until(lambda: DescriptorPoll.objects.filter(listing=listing).exclude(pk=first.pk).first(), timeout=60)
    assert second.outcome == "version_created"
    assert second.version.number == "1.1.0"
    assert list(Version.objects.filter(listing=listing).order_by("build_number").values_list("state", flat=True)) == [
        "superseded",
        "published",
    ]

    messages = smtp_server.wait_for(2, timeout=60)
    subjects = sorted(m["Subject"] for m in messages)
    assert len(subjects) == 2
    assert any("1.0.0" in s for s in subjects) and any("1.1.0" in s for s in subjects)
    assert all(m["To"] == "team@acme.example.com" or "team@acme.example.com" in m["To"] for m in messages)
