"""The one "send this e-mail once" helper and the one rule for which vendor members are e-mailed."""

from __future__ import annotations

import pytest
from django.core import mail

from core.emails import send_email_once, vendor_recipients
from tests.factories import ListingFactory, MembershipFactory, UserFactory, VendorFactory
from versions.models import DescriptorPoll

pytestmark = pytest.mark.django_db


def test_vendor_recipients_are_every_active_member_with_an_address_and_the_contact():
    vendor = VendorFactory(contact_email=" Team@Acme.example.com ")
    MembershipFactory(vendor=vendor, role="owner", user=UserFactory(email="Owner@acme.example.com"))
    MembershipFactory(vendor=vendor, role="developer", user=UserFactory(email="dev@acme.example.com"))
    MembershipFactory(vendor=vendor, user=UserFactory(email=""))
    MembershipFactory(vendor=vendor, user=UserFactory(email="gone@acme.example.com", is_active=False))
    MembershipFactory(vendor=vendor, user=UserFactory(email="team@acme.example.com"))  # also the contact: once
    MembershipFactory(user=UserFactory(email="other@vendor.example.com"))  # another vendor's member
    assert vendor_recipients(vendor) == ["dev@acme.example.com", "owner@acme.example.com", "team@acme.example.com"]


def test_vendor_recipients_without_a_contact_address():
    vendor = VendorFactory(contact_email="")
    MembershipFactory(vendor=vendor, user=UserFactory(email="dev@acme.example.com"))
    assert vendor_recipients(vendor) == ["dev@acme.example.com"]


@pytest.fixture
def poll():
    listing = ListingFactory(
        vendor=MembershipFactory().vendor, scheme="connect", descriptor_url="https://e.example/d.json"
    )
    return DescriptorPoll.objects.create(listing=listing, url=listing.descriptor_url, outcome="failed", error="boom")


def send(poll, *, to=("a@example.com",)):
    """The poll-failure e-mail's record: the poll's `notified_at`."""

    def claim():
        return DescriptorPoll.objects.select_for_update().filter(pk=poll.pk, notified_at__isnull=True).first()

    def mark_sent(record):
        DescriptorPoll.objects.filter(pk=record.pk).update(notified_at="2026-01-01T00:00:00Z")

    context = {"poll": poll, "listing": poll.listing, "listing_url": "https://portal.example/x"}
    return send_email_once(
        claim=claim, to=to, subject="s", template="emails/poll_failed", context=context, mark_sent=mark_sent
    )


def test_send_email_once_sends_text_and_html_once(poll):
    assert send(poll) is not None
    assert send(poll) is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["a@example.com"] and mail.outbox[0].alternatives[0][1] == "text/html"


def test_a_failed_send_rolls_the_record_back_so_a_retry_sends(poll, monkeypatch):
    def broken(self, fail_silently=False):
        raise ConnectionRefusedError("smtp down")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
        with pytest.raises(ConnectionRefusedError):
            send(poll)
    poll.refresh_from_db()
    assert poll.notified_at is None
    assert send(poll) is not None and len(mail.outbox) == 1


def test_no_recipient_keeps_the_record_and_sends_nothing(poll):
    assert send(poll, to=()) is not None
    assert send(poll) is None
    assert mail.outbox == []


def test_a_retry_after_the_server_accepted_but_the_commit_failed_reuses_the_message_id(poll):
    """SMTP said 250, then the transaction failed: the retry sends again, and the mailbox shows one message."""
    from django.db import OperationalError

    def claim():
        return DescriptorPoll.objects.select_for_update().filter(pk=poll.pk, notified_at__isnull=True).first()

    def commit_fails(record):
        raise OperationalError("server closed the connection unexpectedly")

    def mark_sent(record):
        DescriptorPoll.objects.filter(pk=record.pk).update(notified_at="2026-01-01T00:00:00Z")

    context = {"poll": poll, "listing": poll.listing, "listing_url": "https://portal.example/x"}
    common = {"claim": claim, "to": ["a@example.com"], "subject": "s", "template": "emails/poll_failed"}
    with pytest.raises(OperationalError):
        send_email_once(**common, context=context, mark_sent=commit_fails, message_key=f"poll-failure.{poll.pk}")
    assert send_email_once(**common, context=context, mark_sent=mark_sent, message_key=f"poll-failure.{poll.pk}")
    first, retry = mail.outbox
    assert first.extra_headers["Message-ID"] == retry.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"] == f"<poll-failure.{poll.pk}@marketplace.localhost>"
