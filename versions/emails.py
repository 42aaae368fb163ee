"""E-mails to vendors about automatic versions: a descriptor poll failed, the portal made a version.

Each is sent once (core.emails.send_email_once) to the vendor's recipients
(core.emails.vendor_recipients): a failure once per poll (its `notified_at`),
an automatic version once per version (its AutoVersionNotice row).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.emails import send_email_once, vendor_recipients
from core.notifications import AUTOMATIC_VERSIONS, POLL_FAILURES
from marketplace.models import Listing
from versions.models import AutoVersionNotice, DescriptorPoll, Version


def _listing_url(listing: Listing) -> str:
    """Absolute: e-mail clients have no page to resolve a relative link against."""
    try:
        path = reverse("portal:listing-polls", kwargs={"key": listing.key})
    except NoReverseMatch:  # pragma: no cover - the portal URLs are always installed
        path = f"/portal/listings/{listing.key}/"
    return f"{settings.PORTAL_BASE_URL}{path}"


def send_poll_failure_email(poll_id: int) -> DescriptorPoll | None:
    """Tell the vendor their descriptor could not be polled (the poll service asks once per failure streak)."""
    poll = DescriptorPoll.objects.select_related("listing__vendor").filter(pk=poll_id).first()
    if poll is None or poll.notified_at is not None:
        return None
    listing = poll.listing

    def claim() -> DescriptorPoll | None:
        return DescriptorPoll.objects.select_for_update().filter(pk=poll_id, notified_at__isnull=True).first()

    def mark_sent(locked: DescriptorPoll) -> None:
        locked.notified_at = timezone.now()
        locked.save(update_fields=["notified_at"])

    return send_email_once(
        claim=claim,
        message_key=f"poll-failure.{poll_id}",
        to=vendor_recipients(listing.vendor, POLL_FAILURES),
        unsubscribe_kind=POLL_FAILURES,
        subject=f"[Marketplace] Polling the descriptor of {listing.name} failed",
        template="emails/poll_failed",
        context={"poll": poll, "listing": listing, "listing_url": _listing_url(listing)},
        mark_sent=mark_sent,
    )


def send_auto_version_email(version_id: int) -> AutoVersionNotice | None:
    """Tell the vendor the portal made a version from their descriptor or deploy (once per version)."""
    version = Version.objects.select_related("listing__vendor").filter(pk=version_id).first()
    if version is None:
        return None
    listing = version.listing

    def claim() -> AutoVersionNotice | None:
        notice, created = AutoVersionNotice.objects.get_or_create(version=version)
        return notice if created else None

    return send_email_once(
        claim=claim,
        message_key=f"auto-version.{version_id}",
        to=vendor_recipients(listing.vendor, AUTOMATIC_VERSIONS),
        unsubscribe_kind=AUTOMATIC_VERSIONS,
        subject=(
            f"[Marketplace] {listing.name} {version.number} was created from your "
            f"{'deploy' if version.source == 'deploy' else 'descriptor'}"
        ),
        template="emails/poll_version_created",
        context={
            "version": version,
            "listing": listing,
            "listing_url": _listing_url(listing),
            "needs_review": version.state != "published",
        },
    )
