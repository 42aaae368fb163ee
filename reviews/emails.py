"""The vendor's e-mail about a review decision: approved, or rejected with the reviewer's comments.

Sent once per decision (core.emails.send_email_once): the DecisionEmail row is
inserted before sending, in the same transaction, under the transition's
unique key. A concurrent second run blocks on it and then finds it taken; a
failed send rolls the row back so a retry can send again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import send_email_once, vendor_recipients
from core.notifications import REVIEW_DECISIONS
from reviews.models import DecisionEmail, ReviewMessage
from versions.models import Version, VersionTransition

DECISIONS = {
    "approve": (DecisionEmail.Kind.APPROVED, "emails/version_approved"),
    "reject": (DecisionEmail.Kind.REJECTED, "emails/version_rejected"),
}


def version_portal_url(version: Version) -> str:
    """Absolute: e-mail clients have no page to resolve a relative link against."""
    return settings.PORTAL_BASE_URL + reverse("portal:version-detail", args=[version.pk])


def review_decision_email_send(*, transition_id: int) -> DecisionEmail | None:
    """E-mail the vendor about an approve/reject transition, once; None when nothing (more) is to send."""
    transition = (
        VersionTransition.objects.select_related("version__listing__vendor", "actor").filter(pk=transition_id).first()
    )
    if transition is None or transition.name not in DECISIONS:
        return None
    if DecisionEmail.objects.filter(transition_id=transition_id).exists():
        return None
    kind, template = DECISIONS[transition.name]
    version = transition.version
    recipients = vendor_recipients(version.listing.vendor, REVIEW_DECISIONS)
    if kind == DecisionEmail.Kind.APPROVED:
        subject = f"Approved: {version.listing.name} {version.number}"
    else:
        subject = f"Rejected: {version.listing.name} {version.number} needs changes"

    def claim() -> DecisionEmail | None:
        try:
            with transaction.atomic():
                return DecisionEmail.objects.create(
                    transition=transition, kind=kind, recipients=recipients, subject=subject
                )
        except IntegrityError:
            return None  # another run is sending (or has sent) this one

    return send_email_once(
        claim=claim,
        message_key=f"review-decision.{transition_id}",
        unsubscribe_kind=REVIEW_DECISIONS,
        to=recipients,
        subject=subject,
        template=template,
        context={
            "version": version,
            "listing": version.listing,
            "vendor": version.listing.vendor,
            "transition": transition,
            "comment": transition.comment,
            "reviewer": transition.actor_label,
            "version_url": version_portal_url(version),
            "portal_url": settings.PORTAL_BASE_URL,
        },
    )


def review_question_email_send(*, message_id: int) -> ReviewMessage | None:
    """E-mail the vendor the reviewer's question, once (the message row's emailed_at, locked)."""

    def claim() -> ReviewMessage | None:
        return (
            ReviewMessage.objects.select_for_update()
            .filter(pk=message_id, kind=ReviewMessage.Kind.QUESTION, emailed_at=None)
            .first()
        )

    message = ReviewMessage.objects.select_related("version__listing__vendor", "author").filter(pk=message_id).first()
    if message is None or message.kind != ReviewMessage.Kind.QUESTION or message.emailed_at is not None:
        return None
    version = message.version

    def mark_sent(record: ReviewMessage) -> None:
        ReviewMessage.objects.filter(pk=record.pk).update(emailed_at=timezone.now())

    return send_email_once(
        claim=claim,
        mark_sent=mark_sent,
        message_key=f"review-question.{message_id}",
        to=vendor_recipients(version.listing.vendor),
        subject=f"Question from the reviewer: {version.listing.name} {version.number}",
        template="emails/review_question",
        context={
            "version": version,
            "listing": version.listing,
            "vendor": version.listing.vendor,
            "question": message.body,
            "reviewer": message.author_label,
            "version_url": version_portal_url(version),
            "portal_url": settings.PORTAL_BASE_URL,
        },
    )
