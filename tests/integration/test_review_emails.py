"""Decision e-mails through the real pieces: the transaction commits, the task goes to
Redis, a Celery worker process sends it to an SMTP server on 127.0.0.1."""

from __future__ import annotations

from reviews.models import DecisionEmail
from reviews.tasks import send_review_decision_email
from tests.factories import ListingFactory, MembershipFactory, ReviewerFactory, VersionFactory
from versions import services as lifecycle


def test_decision_mails_go_out_once_each_through_worker_and_smtp(celery_worker_process, smtp_server):
    reviewer = ReviewerFactory()
    owner = MembershipFactory(role="owner").user
    listing = ListingFactory(vendor=owner.vendor_memberships.get().vendor, name="Acme Timer")
    approved = VersionFactory(listing=listing, number="1.0.0", state="in_review", reviewer=reviewer)
    rejected = VersionFactory(listing=listing, number="1.1.0", state="in_review", reviewer=reviewer)

    # One message per recipient, each with its own unsubscribe link (issue #16 item 5).
    recipients = sorted([owner.email.lower(), listing.vendor.contact_email.lower()])
    lifecycle.version_approve(version=approved, actor=reviewer)
    approvals = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in approvals) == recipients
    assert all(m["Subject"] == "Approved: Acme Timer 1.0.0" and m["List-Unsubscribe"] for m in approvals)
    first = approvals[0]
    assert first.is_multipart()
    text, html = (part.get_payload(decode=True).decode() for part in first.walk() if not part.is_multipart())
    assert f"/portal/versions/{approved.pk}/" in text and 'href="http' in html

    # A duplicate delivery of the same task, then the next decision: the worker runs them
    # in order, so once the second mail is here the duplicate has run and sent nothing.
    send_review_decision_email.delay(approved.transitions.get(name="approve").pk)
    lifecycle.version_reject(version=rejected, actor=reviewer, comment="Describe the fix.")
    messages = smtp_server.wait_for(4)
    assert [m["Subject"] for m in messages] == [
        "Approved: Acme Timer 1.0.0",
        "Approved: Acme Timer 1.0.0",
        "Rejected: Acme Timer 1.1.0 needs changes",
        "Rejected: Acme Timer 1.1.0 needs changes",
    ]
    assert "Describe the fix." in messages[3].get_payload()[0].get_payload(decode=True).decode()
    assert DecisionEmail.objects.count() == 2
