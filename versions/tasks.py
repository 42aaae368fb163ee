"""Celery tasks for automatic versions: the polling fan-out, one poll, and the vendor e-mails.

Names route by pattern (settings.CELERY_TASK_ROUTES): `*.poll_*` to the polling
queue, `*.send_*` to the e-mail queue. Tasks take ids, re-fetch, and return
quietly when there is nothing (left) to do.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from marketplace.models import Listing, VendorMembership
from versions.models import AutoVersionNotice, DescriptorPoll, Version

logger = logging.getLogger(__name__)

# Spread a fan-out over this share of the interval, so the next tick starts on a quiet queue.
SPREAD_SHARE = 0.8


@shared_task(name="versions.tasks.poll_due_descriptors", ignore_result=True)
def poll_due_descriptors() -> int:
    """Beat: enqueue one poll per due listing, spread evenly over the polling interval.

    Thousands of listings must not hit vendors' servers (and our workers) in the
    same second, so poll i of n starts i * (0.8 * interval / n) seconds from now.
    """
    from versions.services.automatic import listings_due_for_poll

    ids = list(listings_due_for_poll().values_list("pk", flat=True))
    if not ids:
        return 0
    window = settings.DESCRIPTOR_POLL_INTERVAL.total_seconds() * SPREAD_SHARE
    step = window / len(ids)
    for index, listing_id in enumerate(ids):
        poll_descriptor.apply_async(args=(listing_id, DescriptorPoll.Trigger.SCHEDULE), countdown=int(index * step))
    logger.info("queued %d descriptor polls over %d s", len(ids), int(window))
    return len(ids)


@shared_task(name="versions.tasks.poll_descriptor", ignore_result=True, soft_time_limit=90, time_limit=120)
def poll_descriptor(
    listing_id: int, trigger: str = DescriptorPoll.Trigger.SCHEDULE, user_id: int | None = None
) -> None:
    """Poll one listing's descriptor; failures are recorded on the poll, never raised (the next poll retries)."""
    from versions.services.automatic import listing_poll_descriptor, pollable_listings

    listing = pollable_listings().filter(pk=listing_id).first()
    if listing is None:
        return
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    listing_poll_descriptor(listing=listing, trigger=trigger, requested_by=user)


def _vendor_recipients(listing: Listing) -> list[str]:
    owners = VendorMembership.objects.filter(vendor_id=listing.vendor_id, role=VendorMembership.Role.OWNER)
    emails = [listing.vendor.contact_email, *owners.values_list("user__email", flat=True)]
    return sorted({e.strip().lower() for e in emails if e and e.strip()})


def _absolute(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{path}"


def _listing_url(listing: Listing) -> str:
    try:
        return _absolute(reverse("portal:listing-polls", kwargs={"key": listing.key}))
    except NoReverseMatch:  # pragma: no cover - the portal URLs are always installed
        return _absolute(f"/portal/listings/{listing.key}/")


def _send(template: str, context: dict, subject: str, to: list[str]) -> None:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    message.send()


@shared_task(
    name="versions.tasks.send_poll_failure_email",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_poll_failure_email(poll_id: int) -> None:
    """Tell the vendor their descriptor could not be polled (once per failure streak)."""
    with transaction.atomic():
        poll = (
            DescriptorPoll.objects.select_for_update(of=("self",))
            .select_related("listing__vendor")
            .filter(pk=poll_id, notified_at__isnull=True)
            .first()
        )
        if poll is None:
            return
        listing = poll.listing
        to = _vendor_recipients(listing)
        if to:
            context = {"poll": poll, "listing": listing, "listing_url": _listing_url(listing)}
            _send("poll_failed", context, f"[Marketplace] Polling the descriptor of {listing.name} failed", to)
        poll.notified_at = timezone.now()
        poll.save(update_fields=["notified_at"])


@shared_task(
    name="versions.tasks.send_auto_version_email",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_auto_version_email(version_id: int) -> None:
    """Tell the vendor the portal made a version from their descriptor or deploy (once per version)."""
    with transaction.atomic():
        version = Version.objects.select_related("listing__vendor").filter(pk=version_id).first()
        if version is None:
            return
        _notice, created = AutoVersionNotice.objects.get_or_create(version=version)
        if not created:
            return
        to = _vendor_recipients(version.listing)
        if not to:
            return
        context = {
            "version": version,
            "listing": version.listing,
            "listing_url": _listing_url(version.listing),
            "needs_review": version.state != "published",
        }
        # Sent inside the transaction: if sending fails, the notice row rolls back and a retry sends it.
        _send(
            "poll_version_created",
            context,
            f"[Marketplace] {version.listing.name} {version.number} was created from your "
            f"{'deploy' if version.source == 'deploy' else 'descriptor'}",
            to,
        )
