"""The lifecycle transitions of a version: submit, review, publish, cancel.

Each transition service runs in one transaction with the version row locked
(SELECT ... FOR UPDATE on PostgreSQL; IMMEDIATE transactions on SQLite), checks
permissions and `can_proceed`, calls the pure transition method, saves, and
writes exactly one VersionTransition row. Two concurrent transitions on one
version therefore serialise: the second sees the first one's state and is
refused with a clear TransitionNotAllowed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_fsm import can_proceed

from accounts.permissions import require_second_factor, require_verified_email
from core.errors import ApplicationError, TransitionNotAllowed
from marketplace.permissions import (
    is_vendor_member,
    require_reviewer_for,
    require_vendor_member,
    require_vendor_member_or_staff,
)
from versions import hooks
from versions.models import (
    Source,
    State,
    Version,
)
from versions.policies import free_to_paid
from versions.schemes import skips_review
from versions.services._rules import (
    SYSTEM_SOURCES,
    _check_greater_than_released,
    _check_manual_bump,
    _check_required_scopes,
    _clean_snapshot,
    _lock,
    _lock_listing,
    _transition,
    last_published,
)

# --- lifecycle -------------------------------------------------------------------------


def version_submit(*, version: Version, actor: Any, comment: str = "") -> Version:
    """Validate everything and queue the version for review.

    OCP -dev versions skip the review and go live on the vendor's sandbox.
    """
    with transaction.atomic():
        version = _lock(version)
        if actor is not None or version.source not in SYSTEM_SOURCES:
            require_vendor_member(actor, version.listing.vendor_id)
        _validate_for_release(version)
        if version.state == State.DRAFT and _skips_review(version):
            return _release(version, actor=actor, comment=comment or "released without review")
        return _transition(version, "submit", actor=actor, comment=comment)


def _skips_review(version: Version) -> bool:
    """System and OCP -dev versions skip review, unless they turn a free app into a paid one.

    Mirrored versions always skip it: the upstream portal reviewed them, and a
    move to paid still asks each site for consent in the rollout.
    """
    if version.source == Source.MIRROR:
        return True
    if not skips_review(version.listing.scheme, version.source, version.parsed_number):
        return False
    previous = last_published(version.listing, version.channel)
    return not free_to_paid(previous.pricing if previous else "free", version.pricing)


def _validate_for_release(version: Version) -> None:
    listing = version.listing
    if listing.archived_at is not None:
        raise ApplicationError(f"Listing {listing.key} is archived.", field="listing")
    # Re-run every field rule: the row may predate a rule or have been written by the ORM.
    _clean_snapshot(
        listing,
        {
            f: getattr(version, f)
            for f in ("number", "update_notes", "scopes", "members", "pricing", "api_version", "components")
        },
    )
    _check_greater_than_released(listing, version.channel, version.parsed_number)
    _check_manual_bump(version)
    _check_required_scopes(version)


def version_start_review(*, version: Version, actor: Any, comment: str = "") -> Version:
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        return _transition(version, "start_review", actor=actor, comment=comment, reviewer=actor)


def version_approve(*, version: Version, actor: Any, comment: str = "") -> Version:
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        _transition(version, "approve", actor=actor, comment=comment)
        _email_vendor_on_commit(version)
        return version


def version_reject(*, version: Version, actor: Any, comment: str) -> Version:
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError("Comments are required when rejecting: tell the vendor what to fix.", field="comment")
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        _transition(version, "reject", actor=actor, comment=comment)
        _email_vendor_on_commit(version)
        return version


def _email_vendor_on_commit(version: Version) -> None:
    """After commit, e-mail the vendor about the review decision just recorded (its audit row)."""
    transition_id = version.transitions.order_by("-id").values_list("pk", flat=True).first()
    hooks.review_decided(transition_id=transition_id)


def version_cancel(*, version: Version, actor: Any, comment: str = "") -> Version:
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member_or_staff(actor, version.listing.vendor_id)
        return _transition(version, "cancel", actor=actor, comment=comment)


def version_withdraw(*, version: Version, actor: Any, comment: str = "") -> Version:
    """The vendor takes a submitted (pending, in review or approved) version back to draft to edit it.

    The optional comment (why) goes into the audit row; the version leaves the
    review queue and needs a new submission and review.
    """
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member(actor, version.listing.vendor_id)
        version.publish_at = None  # a scheduled publish goes with the approval (issue #16 item 4)
        return _transition(version, "withdraw", actor=actor, comment=(comment or "").strip())


def version_release_to_queue(*, version: Version, actor: Any, comment: str = "") -> Version:
    """A reviewer gives up an in-review version: it goes back to the queue for any reviewer to pick up."""
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        return _transition(version, "release_to_queue", actor=actor, comment=(comment or "").strip())


def version_publish(*, version: Version, actor: Any, comment: str = "") -> Version:
    """Make an approved version live; the channel's previous live version is superseded."""
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member_or_staff(actor, version.listing.vendor_id)
        if is_vendor_member(actor, version.listing.vendor_id):
            # Whoever publishes for a vendor has a verified address and a second factor
            # (settings.MFA_REQUIRED, on in production).
            require_verified_email(actor, action="publish a version")
            require_second_factor(actor, action="publish a version")
        if not can_proceed(version.publish):
            raise TransitionNotAllowed(
                f"Cannot publish {version}: it is {version.get_state_display().lower()} (only approved versions can be published)."
            )
        return _release(version, actor=actor, comment=comment)


def _release(version: Version, *, actor: Any, comment: str) -> Version:
    """Publish a locked version (reviewed or not) and supersede the channel's live one."""
    # Lock order everywhere: version row, then listing row. Holding the listing
    # lock, no other publish of this listing can slip in between the check that
    # this number is the highest and the moment it goes live.
    _lock_listing(version.listing_id)
    _check_greater_than_released(version.listing, version.channel, version.parsed_number)
    previous = (
        Version.objects.select_for_update()
        .filter(listing_id=version.listing_id, channel=version.channel, state=State.PUBLISHED)
        .exclude(pk=version.pk)
        .first()
    )
    if previous is not None:
        _transition(previous, "supersede", actor=None, comment=f"superseded by {version.number}")
    name = "publish" if version.state == State.APPROVED else "release_without_review"
    _transition(version, name, actor=actor, comment=comment)
    hooks.version_published(version_id=version.pk)
    return version
