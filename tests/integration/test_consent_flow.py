"""End to end with real parts: publishing on PostgreSQL starts the rollout on a real
Celery worker (Redis broker), the worker sends the consent e-mail to a real SMTP
server on 127.0.0.1, and the link in it is followed over HTTP to the live server,
where the admin approves."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email import message_from_bytes

import httpx
import pytest

from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    ScopeFactory,
    SiteAdminFactory,
    SiteFactory,
    UserFactory,
    VersionFactory,
)
from tests.integration.conftest import SmtpServer, wait_until
from upgrades import services
from upgrades.models import Installation, SentEmail, UpgradeRequest
from versions.services import version_publish


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """The shared fixture's SMTP server, on a free port chosen first.

    (aiosmtpd's Controller probes the port it was given, so port 0 can't be
    used directly; tests/integration/conftest.py has that problem.)
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
    """The shared worker fixture closes the producer pool when it switches the broker to
    Redis; drop the closed pools so that .delay() opens fresh ones on Redis."""
    from kombu import pools

    from marketplace.celery import app

    def fresh_pools() -> None:
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    fresh_pools()
    yield celery_worker_process
    fresh_pools()


def _text_part(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text/plain part")


def test_consent_email_link_approves_over_http(smtp_server, live_server, worker, celery_worker_process):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, name="Team Calendar")
    v1 = VersionFactory(listing=listing, number="1.0.0", scopes=["read:jira-work"], state="published")
    site = SiteFactory(name="Customer Jira", host_product=HostProductFactory(key="jira", name="Jira"))
    admin = UserFactory(email="admin@customer.example.com")
    SiteAdminFactory(site=site, user=admin, email=admin.email)
    installation = services.installation_create(site=site, listing=listing, version=v1)
    v2 = VersionFactory(listing=listing, number="1.1.0", scopes=["read:jira-work", "write:jira-work"], state="approved")

    version_publish(version=v2, actor=membership.user)  # autocommit: the rollout task goes to Redis now

    [message] = smtp_server.wait_for(1, timeout=60)
    assert message["To"] == admin.email
    assert "Team Calendar 1.1.0 needs your approval" in message["Subject"]
    body = _text_part(message)
    assert "new scope write:jira-work (write)" in body
    link = re.search(r"(http://\S+/upgrades/consent/\S+/)", body).group(1)
    assert link.startswith(live_server.url)
    assert Installation.objects.get(pk=installation.pk).state == "pending_consent"

    with httpx.Client(timeout=20) as client:
        page = client.get(link)
        assert page.status_code == 200 and "write:jira-work" in page.text
        assert UpgradeRequest.objects.get(installation=installation).state == "pending"  # GET changed nothing
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        done = client.post(link, data={"csrfmiddlewaretoken": csrf, "action": "approve"})
        assert done.status_code == 200 and "now runs <strong>1.1.0</strong>" in done.text
        replay = client.post(link, data={"csrfmiddlewaretoken": csrf, "action": "approve"})
        assert replay.status_code == 409

    installation.refresh_from_db()
    assert installation.version_id == v2.pk and installation.state == "active"
    request = UpgradeRequest.objects.get(installation=installation)
    assert request.state == "approved" and request.decided_by_email == admin.email
    # The worker then tells the admins the upgrade was applied.
    messages = smtp_server.wait_for(2, timeout=60)
    assert "was upgraded to 1.1.0" in messages[1]["Subject"]
    assert wait_until(lambda: SentEmail.objects.filter(kind="applied", sent_at__isnull=False).count() == 1)
    assert SentEmail.objects.filter(kind="consent").count() == 1
