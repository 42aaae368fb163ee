"""Writes of the reviewer workspace: the vendor's decision e-mail and the Reviewers group.

The review transitions themselves (start review, approve, reject, cancel) are
versions.services; the admin calls those.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from reviews.models import DecisionEmail
from versions.models import Version, VersionTransition

logger = logging.getLogger(__name__)

REVIEWERS_GROUP = "Reviewers"
# Exactly what a reviewer needs: decide on versions, and read what they decide about.
REVIEWER_PERMISSIONS = (
    ("versions", "review_version"),
    ("versions", "view_version"),
    ("versions", "view_versiontransition"),
    ("reviews", "view_reviewqueueversion"),
    ("marketplace", "view_listing"),
    ("marketplace", "view_vendor"),
    ("marketplace", "view_scope"),
)
DECISIONS = {
    "approve": (DecisionEmail.Kind.APPROVED, "emails/version_approved"),
    "reject": (DecisionEmail.Kind.REJECTED, "emails/version_rejected"),
}


def reviewers_group_sync() -> Group:
    """The `Reviewers` group with exactly REVIEWER_PERMISSIONS (the data migration does the same
    on a fresh database; this restores it where tests flushed the tables)."""
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    query = Q(pk__in=[])
    for app_label, codename in REVIEWER_PERMISSIONS:
        query |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(query))
    return group


def version_vendor_recipients(version: Version) -> list[str]:
    """Every active member of the vendor with an address, and the vendor's contact address."""
    vendor = version.listing.vendor
    addresses = {
        email.strip().lower()
        for email in vendor.users.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    }
    if vendor.contact_email:
        addresses.add(vendor.contact_email.strip().lower())
    return sorted(addresses)


def version_portal_url(version: Version) -> str:
    """Absolute: e-mail clients have no page to resolve a relative link against."""
    return settings.PORTAL_BASE_URL + reverse("portal:version-detail", args=[version.pk])


def review_decision_email_send(*, transition_id: int) -> DecisionEmail | None:
    """E-mail the vendor about an approve/reject transition, once.

    The DecisionEmail row is inserted before sending, in the same transaction: a
    concurrent second run blocks on the unique transition and then finds it taken;
    a failed send rolls the row back so a retry can send again.
    """
    transition = (
        VersionTransition.objects.select_related("version__listing__vendor", "actor").filter(pk=transition_id).first()
    )
    if transition is None or transition.name not in DECISIONS:
        return None
    if DecisionEmail.objects.filter(transition_id=transition_id).exists():
        return None
    kind, template = DECISIONS[transition.name]
    version = transition.version
    recipients = version_vendor_recipients(version)
    if kind == DecisionEmail.Kind.APPROVED:
        subject = f"Approved: {version.listing.name} {version.number}"
    else:
        subject = f"Rejected: {version.listing.name} {version.number} needs changes"
    context = {
        "version": version,
        "listing": version.listing,
        "vendor": version.listing.vendor,
        "transition": transition,
        "comment": transition.comment,
        "reviewer": transition.actor_label,
        "version_url": version_portal_url(version),
        "portal_url": settings.PORTAL_BASE_URL,
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = DecisionEmail.objects.create(
                    transition=transition, kind=kind, recipients=recipients, subject=subject
                )
        except IntegrityError:
            return None  # another run is sending (or has sent) this one
        if recipients:
            message = EmailMultiAlternatives(
                subject=subject,
                body=render_to_string(f"{template}.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=recipients,
            )
            message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
            message.send()
        else:
            logger.warning("No address to tell %s about %s of %s", version.listing.vendor, kind, version)
    return record
