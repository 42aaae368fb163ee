"""Decision e-mails through the real pieces: the transaction commits, the task goes to
Redis, a Celery worker process sends it to an SMTP server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest

from reviews.models import DecisionEmail
from reviews.tasks import send_review_decision_email
from tests.factories import ListingFactory, MembershipFactory, ReviewerFactory, VersionFactory
from tests.integration.conftest import SmtpServer
from versions import services as lifecycle


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """The shared fixture, on a port chosen up front: aiosmtpd's Controller connects to
    its own port to check it started, which fails with port=0."""
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


def _fresh_celery_pools() -> None:
    from kombu import pools

    from marketplace.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_pools_restored() -> Iterator[None]:
    """Set up before the shared worker fixture, so torn down after it: that fixture
    force-closes the app's pool on the way out, and kombu keeps closed pools in its
    global registry, which would break every later `.delay()` (eager ones too)."""
    yield
    _fresh_celery_pools()


@pytest.fixture
def worker(celery_pools_restored, celery_worker_process):
    """The shared worker fixture closes the pool it has just pointed at Redis; start
    from fresh pools so `.delay()` publishes to the worker."""
    _fresh_celery_pools()
    return celery_worker_process


def test_decision_mails_go_out_once_each_through_worker_and_smtp(worker, smtp_server):
    reviewer = ReviewerFactory()
    owner = MembershipFactory(role="owner").user
    listing = ListingFactory(vendor=owner.vendor_memberships.get().vendor, name="Acme Timer")
    approved = VersionFactory(listing=listing, number="1.0.0", state="in_review", reviewer=reviewer)
    rejected = VersionFactory(listing=listing, number="1.1.0", state="in_review", reviewer=reviewer)

    lifecycle.version_approve(version=approved, actor=reviewer)
    [first] = smtp_server.wait_for(1)
    assert first["Subject"] == "Approved: Acme Timer 1.0.0"
    assert owner.email in first["To"] and listing.vendor.contact_email in first["To"]
    assert first.is_multipart()
    text, html = (part.get_payload(decode=True).decode() for part in first.walk() if not part.is_multipart())
    assert f"/portal/versions/{approved.pk}/" in text and 'href="http' in html

    # A duplicate delivery of the same task, then the next decision: the worker runs them
    # in order, so once the second mail is here the duplicate has run and sent nothing.
    send_review_decision_email.delay(approved.transitions.get(name="approve").pk)
    lifecycle.version_reject(version=rejected, actor=reviewer, comment="Describe the fix.")
    messages = smtp_server.wait_for(2)
    assert [m["Subject"] for m in messages] == [
        "Approved: Acme Timer 1.0.0",
        "Rejected: Acme Timer 1.1.0 needs changes",
    ]
    assert "Describe the fix." in messages[1].get_payload()[0].get_payload(decode=True).decode()
    assert DecisionEmail.objects.count() == 2
