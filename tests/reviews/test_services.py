"""Decision e-mails to the vendor (once per transition) and the Reviewers group."""

from __future__ import annotations

import socket

import pytest
from django.contrib.auth.models import Group

from core.errors import ApplicationError
from reviews.emails import review_decision_email_send
from reviews.models import DecisionEmail
from reviews.services import REVIEWER_PERMISSIONS, reviewers_group_sync
from reviews.tasks import send_review_decision_email
from tests.factories import MembershipFactory, UserFactory
from tests.reviews.queue import waiting_version
from versions import services as lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(vendor_listing, group_reviewer):
    MembershipFactory(vendor=vendor_listing.vendor, user=UserFactory(email="Dev@Acme.example.com"))
    MembershipFactory(vendor=vendor_listing.vendor, user=UserFactory(email=""))
    return waiting_version(vendor_listing, "1.0.1", state="in_review", reviewer=group_reviewer)


def test_approval_sends_one_text_and_html_mail_to_the_vendor(
    settings, in_review, group_reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lifecycle.version_approve(version=in_review, actor=group_reviewer, comment="Ship it.")
    assert len(callbacks) == 2  # the vendor's e-mail, and its webhooks (none registered here)
    vendor = in_review.listing.vendor
    # One message per recipient, each with its own signed unsubscribe link (issue #16 item 5).
    assert all(len(m.to) == 1 for m in mailoutbox)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [in_review.listing.member.email.lower(), "dev@acme.example.com", vendor.contact_email.lower()]
    )
    mail = mailoutbox[0]
    assert mail.extra_headers["List-Unsubscribe"].startswith("<https://portal.example.com/upgrades/unsubscribe/")
    assert mail.subject == "Approved: Acme Timer 1.0.1"
    link = f"https://portal.example.com/portal/versions/{in_review.pk}/"
    assert link in mail.body and "Ship it." in mail.body and "publish it" in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html" and f'href="{link}"' in html
    record = DecisionEmail.objects.get()
    assert record.transition == in_review.transitions.get(name="approve")
    assert record.kind == "approved" and record.recipients == sorted(m.to[0] for m in mailoutbox)


def test_rejection_mail_carries_the_comments(in_review, group_reviewer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.version_reject(version=in_review, actor=group_reviewer, comment="Say what <b>changed</b>.")
    mail = mailoutbox[0]
    assert mail.subject == "Rejected: Acme Timer 1.0.1 needs changes"
    assert "Say what <b>changed</b>." in mail.body
    assert "Say what &lt;b&gt;changed&lt;/b&gt;." in mail.alternatives[0][0]


def test_the_task_running_twice_sends_once(in_review, group_reviewer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.version_approve(version=in_review, actor=group_reviewer)
    transition = in_review.transitions.get(name="approve")
    send_review_decision_email.delay(transition.pk)
    send_review_decision_email(transition.pk)
    assert review_decision_email_send(transition_id=transition.pk) is None
    assert len(mailoutbox) == len(
        DecisionEmail.objects.get().recipients
    )  # one message per recipient (each with its own unsubscribe link), none twice
    assert DecisionEmail.objects.count() == 1


def test_other_transitions_and_missing_rows_send_nothing(in_review, group_reviewer, mailoutbox):
    lifecycle.version_cancel(version=in_review, actor=group_reviewer)
    cancel = in_review.transitions.get(name="cancel")
    assert review_decision_email_send(transition_id=cancel.pk) is None
    assert review_decision_email_send(transition_id=999_999) is None
    assert mailoutbox == [] and not DecisionEmail.objects.exists()


def test_refused_decisions_enqueue_nothing(in_review, mailoutbox, django_capture_on_commit_callbacks):
    insider = in_review.listing.member
    insider.is_staff = True
    insider.save()
    insider.groups.add(Group.objects.get(name="Reviewers"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ApplicationError, match="Comments are required"):
            lifecycle.version_reject(version=in_review, actor=insider, comment="  ")
        with pytest.raises(ApplicationError, match="You belong to this version's vendor"):
            lifecycle.version_approve(version=in_review, actor=insider)
    assert callbacks == [] and mailoutbox == []
    in_review.refresh_from_db()
    assert in_review.state == "in_review"


def test_a_failed_send_is_not_recorded_so_a_retry_can_send(settings, in_review, group_reviewer, mailoutbox):
    lifecycle.version_approve(version=in_review, actor=group_reviewer)
    transition = in_review.transitions.get(name="approve")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the real SMTP backend fails to connect
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    with pytest.raises(OSError):
        review_decision_email_send(transition_id=transition.pk)
    assert not DecisionEmail.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert review_decision_email_send(transition_id=transition.pk) is not None
    assert len(mailoutbox) == len(
        DecisionEmail.objects.get().recipients
    )  # one message per recipient (each with its own unsubscribe link), none twice


def test_migration_creates_the_reviewers_group_with_exactly_the_reviewer_permissions():
    group = Group.objects.get(name="Reviewers")
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert granted == set(REVIEWER_PERMISSIONS)
    assert ("versions", "change_version") not in granted and ("marketplace", "change_listing") not in granted


def test_group_sync_restores_exact_permissions():
    Group.objects.filter(name="Reviewers").delete()
    group = reviewers_group_sync()
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == set(REVIEWER_PERMISSIONS)
    assert reviewers_group_sync().pk == group.pk


def test_group_member_is_a_reviewer_and_plain_staff_is_not(group_reviewer, staff_without_group):
    from marketplace.permissions import is_reviewer

    assert is_reviewer(group_reviewer)
    assert not is_reviewer(staff_without_group)
