"""E-mails to site admins, each sent at most once (core.emails.send_email_once).

Every message is recorded in SentEmail before it goes out, under a unique
constraint (kind, request or upgrade, recipient), with the row locked while the
SMTP conversation runs: a task that runs twice, or two workers running the same
task, send nothing twice. A row whose sending failed stays without `sent_at`
and is retried by the next run.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import send_email_once
from upgrades.models import ConsentLink, SentEmail, SiteAdmin, Upgrade, UpgradeRequest

CONSENT_LINK_SALT = "upgrades.consent-link"


def consent_token(link: ConsentLink) -> str:
    """A signed, timestamped token naming the link row, its request and its recipient."""
    return signing.dumps({"l": link.nonce.hex, "r": link.request_id, "e": link.email}, salt=CONSENT_LINK_SALT)


def consent_url(link: ConsentLink) -> str:
    path = reverse("upgrades:consent", args=[link.request_id, consent_token(link)])
    return f"{settings.PORTAL_BASE_URL}{path}"


def consent_link_for(request: UpgradeRequest, email: str) -> ConsentLink:
    """The recipient's one link for the request (the reminder repeats it, freshly signed)."""
    link = ConsentLink.objects.filter(request=request, email=email).first()
    if link is None:
        try:
            with transaction.atomic():
                link = ConsentLink.objects.create(request=request, email=email, nonce=uuid.uuid4())
        except IntegrityError:
            link = ConsentLink.objects.get(request=request, email=email)
    return link


def _send(*, kind: str, recipient: str, subject: str, template: str, context: dict, request=None, upgrade=None) -> bool:
    """Send one recorded e-mail; False when it was already sent."""

    def claim() -> SentEmail | None:
        record, _ = SentEmail.objects.select_for_update().get_or_create(
            kind=kind, recipient=recipient, request=request, upgrade=upgrade, defaults={"subject": subject}
        )
        return None if record.sent_at is not None else record

    def mark_sent(record: SentEmail) -> None:
        record.sent_at = timezone.now()
        record.subject = subject
        record.save(update_fields=["sent_at", "subject"])

    sent = send_email_once(
        claim=claim,
        to=[recipient],
        subject=subject,
        template=f"emails/{template}",
        context=context,
        mark_sent=mark_sent,
    )
    return sent is not None


def _request_context(request: UpgradeRequest) -> dict:
    installation = request.installation
    return {
        "request": request,
        "site": installation.site,
        "listing": installation.listing,
        "from_version": request.from_version,
        "to_version": request.to_version,
        "reasons": request.reasons,
        "link_max_age_days": settings.UPGRADE_LINK_MAX_AGE.days,
        "portal_url": settings.PORTAL_BASE_URL,
    }


def send_request_emails(request_id: int, *, kind: str = SentEmail.Kind.CONSENT) -> int:
    """One e-mail per site admin for a pending request; returns how many went out now."""
    request = (
        UpgradeRequest.objects.select_related(
            "installation__site", "installation__listing", "from_version", "to_version"
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.state != "pending":
        return 0
    listing = request.installation.listing
    if kind == SentEmail.Kind.REMINDER:
        subject = f"Reminder: {listing.name} {request.to_version.number} is waiting for your approval"
        template = "upgrade_reminder"
    else:
        subject = f"{listing.name} {request.to_version.number} needs your approval on {request.installation.site.name}"
        template = "upgrade_consent"
    sent = 0
    recipients = sorted(
        set(SiteAdmin.objects.filter(site_id=request.installation.site_id).values_list("email", flat=True))
    )
    for email in recipients:
        link = consent_link_for(request, email)
        context = {**_request_context(request), "recipient": email, "link": consent_url(link)}
        sent += _send(kind=kind, recipient=email, subject=subject, template=template, context=context, request=request)
    return sent


def send_applied_emails(upgrade_id: int) -> int:
    upgrade = (
        Upgrade.objects.select_related(
            "installation__site", "installation__listing", "from_version", "to_version", "approved_by", "request"
        )
        .filter(pk=upgrade_id, state="applied")
        .first()
    )
    if upgrade is None:
        return 0
    site, listing = upgrade.installation.site, upgrade.installation.listing
    subject = f"{listing.name} was upgraded to {upgrade.to_version.number} on {site.name}"
    context = {
        "upgrade": upgrade,
        "site": site,
        "listing": listing,
        "from_version": upgrade.from_version,
        "to_version": upgrade.to_version,
        "approver": upgrade.request.decider_label if upgrade.request_id else "",
        "portal_url": settings.PORTAL_BASE_URL,
    }
    sent = 0
    for email in sorted(set(SiteAdmin.objects.filter(site_id=site.pk).values_list("email", flat=True))):
        sent += _send(
            kind=SentEmail.Kind.APPLIED,
            recipient=email,
            subject=subject,
            template="upgrade_applied",
            context={**context, "recipient": email},
            upgrade=upgrade,
        )
    return sent


def send_request_emails_many(request_ids: list[int]) -> int:
    """The consent e-mails of a rollout chunk's new requests; returns how many went out now."""
    return sum(send_request_emails(pk) for pk in request_ids)


def send_reminder_emails_many(request_ids: list[int]) -> int:
    return sum(send_request_emails(pk, kind=SentEmail.Kind.REMINDER) for pk in request_ids)


def send_applied_emails_many(upgrade_ids: list[int]) -> int:
    return sum(send_applied_emails(pk) for pk in upgrade_ids)


def site_invitation_context(invitation, link_token: str) -> dict:
    """The invitation e-mail's context (sent once by upgrades.services.site_invitation_send)."""
    inviter = invitation.invited_by
    return {
        "inviter": (inviter.get_full_name() or inviter.email or inviter.get_username()) if inviter else "A site admin",
        "target": invitation.site.name,
        "what": f"administer the site {invitation.site.name}",
        "email": invitation.email,
        "expires_at": invitation.expires_at,
        "link_url": settings.PORTAL_BASE_URL + reverse("invitations:site", args=[link_token]),
        "portal_url": settings.PORTAL_BASE_URL,
    }
