"""Writes of the reviewer workspace: the Reviewers group.

The review transitions themselves (start review, approve, reject, cancel) are
versions.services; the admin calls those. The vendor's decision e-mail is
reviews/emails.py (versions.hooks enqueues reviews.tasks.send_review_decision_email).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, TransitionNotAllowed
from core.services import audit_record
from marketplace.models import Vendor
from marketplace.permissions import is_reviewer, is_vendor_member, require_reviewer_for, require_vendor_member
from reviews.models import MESSAGE_MAX, ReviewDecision, ReviewerNote, ReviewMessage
from reviews.policies import checklist_missing, claim_is_active, is_review_lead
from reviews.selectors import checklist_for, claim_last_activity
from reviews.tasks import send_review_question_email
from versions.models import State, Version
from versions.services import information, lifecycle

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


def reviewers_group_sync() -> Group:
    """The `Reviewers` group with exactly REVIEWER_PERMISSIONS (the data migration does the same
    on a fresh database; this restores it where tests flushed the tables)."""
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    query = Q(pk__in=[])
    for app_label, codename in REVIEWER_PERMISSIONS:
        query |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(query))
    return group


# --- claims: claim, release, assign -------------------------------------------------------------

LEADS_GROUP = "Review leads"


def _lock_version(version: Version | int) -> Version:
    pk = version if isinstance(version, int) else version.pk
    # Not the reviewer in the same query: PostgreSQL re-reads a row that was updated while this
    # waited for its lock, but not the outer-joined rows, so a claim taken meanwhile would read as
    # a reviewer id without its reviewer. `version.reviewer` is fetched afterwards, fresh.
    locked = (
        Version.objects.select_for_update(of=("self",))
        .select_related("listing", "listing__vendor")
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise NotFound("That version no longer exists.")
    return locked


def _claim_lapsed(version: Version) -> bool:
    """A claim on an in-review version lapses after REVIEW_CLAIM_EXPIRY_HOURS without activity.
    While the version waits for the vendor's answer the claim holds (the wait is not the reviewer's)."""
    if version.state != State.IN_REVIEW or version.reviewer_id is None:
        return False
    return not claim_is_active(
        claim_last_activity(version_id=version.pk),
        now=timezone.now(),
        expiry_hours=settings.REVIEW_CLAIM_EXPIRY_HOURS,
    )


def require_claim_holder(version: Version, actor: Any, *, action: str) -> None:
    """Only the reviewer holding the claim acts on a claimed version (a lapsed claim must be taken first)."""
    if version.reviewer_id is not None and version.reviewer_id != getattr(actor, "pk", None):
        raise Conflict(
            f"Cannot {action} {version}: it is claimed by {version.reviewer.get_username()}. "
            "Only the reviewer holding the claim may act on it; a review lead can reassign it.",
            field="reviewer",
        )


def _audit_claim(version: Version, *, actor: Any, action: str, previous: Any, comment: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=version,
        details={
            "from_reviewer": previous.get_username() if previous else None,
            "to_reviewer": version.reviewer.get_username() if version.reviewer else None,
            "comment": comment,
        },
    )


def review_claim(*, version: Version | int, actor: Any) -> Version:
    """Claim a version from the queue: a waiting one starts its review with the actor as reviewer;
    an in-review one whose claim lapsed moves to the actor. A live claim of someone else is refused."""
    with transaction.atomic():
        version = _lock_version(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        if version.state == State.PENDING_APPROVAL:
            return lifecycle.version_start_review(version=version, actor=actor, comment="claimed")
        if version.state == State.IN_REVIEW and version.reviewer_id == actor.pk:
            raise Conflict(f"You already hold the claim on {version}.", field="reviewer")
        if version.state == State.IN_REVIEW and _claim_lapsed(version):
            previous = version.reviewer
            Version.objects.filter(pk=version.pk).update(reviewer=actor)
            version.reviewer = actor
            _audit_claim(version, actor=actor, action="review.claim_taken_over", previous=previous)
            return version
        if version.reviewer_id is not None and version.state in (State.IN_REVIEW, State.NEEDS_INFORMATION):
            require_claim_holder(version, actor, action="claim")
        # Anything else (approved, rejected, an in-review row without a reviewer): the state machine's refusal.
        return lifecycle.version_start_review(version=version, actor=actor, comment="claimed")


def review_release(*, version: Version | int, actor: Any, comment: str = "") -> Version:
    """The holder (or a lead) gives the version back to the queue for any reviewer to claim."""
    with transaction.atomic():
        version = _lock_version(version)
        if not is_review_lead(actor):
            require_claim_holder(version, actor, action="release")
        return lifecycle.version_release_to_queue(version=version, actor=actor, comment=(comment or "").strip())


def review_assign(*, version: Version | int, actor: Any, reviewer: Any) -> Version:
    """A review lead assigns a version (waiting or in review) to a reviewer, or reassigns it."""
    if not is_review_lead(actor):
        raise PermissionDenied("Only review leads (the Review leads group) may assign versions.")
    with transaction.atomic():
        version = _lock_version(version)
        if reviewer is None or not is_reviewer(reviewer):
            raise ApplicationError("Choose a marketplace reviewer to assign the version to.", field="reviewer")
        if is_vendor_member(reviewer, version.listing.vendor_id):
            raise PermissionDenied(
                f"{reviewer.get_username()} belongs to {version.listing.vendor}, so they may not review this version.",
                field="reviewer",
            )
        if version.state == State.PENDING_APPROVAL:
            return _start_review_for(version, actor=actor, reviewer=reviewer)
        if version.state not in (State.IN_REVIEW, State.NEEDS_INFORMATION):
            raise TransitionNotAllowed(f"Cannot assign {version}: it is {version.get_state_display().lower()}.")
        if version.reviewer_id == reviewer.pk:
            raise Conflict(f"{version} is already assigned to {reviewer.get_username()}.", field="reviewer")
        previous = version.reviewer
        Version.objects.filter(pk=version.pk).update(reviewer=reviewer)
        version.reviewer = reviewer
        _audit_claim(version, actor=actor, action="review.assigned", previous=previous)
        return version


def _start_review_for(version: Version, *, actor: Any, reviewer: Any) -> Version:
    """Start the review as the lead (the audit row's actor), then hand the claim to the assignee."""
    require_reviewer_for(actor, version.listing.vendor_id)
    version = lifecycle.version_start_review(
        version=version, actor=actor, comment=f"assigned to {reviewer.get_username()}"
    )
    if reviewer.pk != actor.pk:
        Version.objects.filter(pk=version.pk).update(reviewer=reviewer)
        version.reviewer = reviewer
        _audit_claim(version, actor=actor, action="review.assigned", previous=actor)
    return version


# --- needs information: the question and the reply ------------------------------------------------


def _clean_message(body: str, *, what: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ApplicationError(f"Write your {what}: it cannot be empty.", field="body")
    if len(body) > MESSAGE_MAX:
        raise ApplicationError(f"Your {what} is {len(body)} characters; the limit is {MESSAGE_MAX}.", field="body")
    return body


def review_ask(*, version: Version | int, actor: Any, body: str) -> ReviewMessage:
    """The claim holder asks the vendor a question: the version waits (needs information) and the
    vendor is e-mailed after commit."""
    body = _clean_message(body, what="question")
    with transaction.atomic():
        version = _lock_version(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        require_claim_holder(version, actor, action="ask the vendor about")
        version = information.version_request_information(version=version, actor=actor, comment=body)
        message = ReviewMessage.objects.create(
            version=version, kind=ReviewMessage.Kind.QUESTION, author=actor, body=body
        )
        transaction.on_commit(partial(send_review_question_email.delay, message.pk), robust=True)
        return message


def review_reply(*, version: Version | int, actor: Any, body: str) -> ReviewMessage:
    """The vendor answers the reviewer's question: the version returns to its reviewer's queue."""
    with transaction.atomic():
        version = _lock_version(version)
        # A member of another vendor learns nothing about this version (NotFound, not Forbidden).
        require_vendor_member(actor, version.listing.vendor_id)
        body = _clean_message(body, what="reply")
        if version.state != State.NEEDS_INFORMATION:
            raise TransitionNotAllowed(
                f"{version} has no open question to answer: it is {version.get_state_display().lower()}.",
                field="body",
            )
        version = information.version_information_provided(version=version, actor=actor, comment=body)
        return ReviewMessage.objects.create(version=version, kind=ReviewMessage.Kind.REPLY, author=actor, body=body)


# --- private notes -------------------------------------------------------------------------------


def reviewer_note_add(
    *, actor: Any, body: str, version: Version | None = None, vendor: Vendor | None = None
) -> ReviewerNote:
    """A reviewer's private note on a version or on a vendor (never shown to the vendor)."""
    if not is_reviewer(actor):
        raise PermissionDenied("Only marketplace reviewers may keep review notes.")
    if (version is None) == (vendor is None):
        raise ApplicationError("A note is about one version or one vendor.", field="body")
    vendor_id = vendor.pk if vendor is not None else version.listing.vendor_id
    if is_vendor_member(actor, vendor_id):
        # The notes are private from the vendor, and this reviewer is one of its people.
        raise PermissionDenied("You belong to this vendor, so you may not keep review notes about it.")
    body = _clean_message(body, what="note")
    with transaction.atomic():
        note = ReviewerNote.objects.create(version=version, vendor=vendor, author=actor, body=body)
        audit_record(actor=actor, action="review.note_added", obj=version or vendor, details={"note_id": note.pk})
        return note


# --- the decision ---------------------------------------------------------------------------------


def review_approve(*, version: Version | int, actor: Any, ticked: Iterable[int], comment: str = "") -> Version:
    """Approve with the checklist complete: the ticks are stored with the decision (its audit row)."""
    ticked_ids = {int(pk) for pk in ticked}
    with transaction.atomic():
        version = _lock_version(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        require_claim_holder(version, actor, action="approve")
        if not can_proceed(version.approve):
            raise TransitionNotAllowed(f"Cannot approve {version}: it is {version.get_state_display().lower()}.")
        required = checklist_for(scheme=version.listing.scheme)
        missing = checklist_missing([(item.pk, item.text) for item in required], ticked_ids)
        if missing:
            raise ApplicationError(
                f"Tick every checklist item before approving; not ticked: {'; '.join(missing)}.", field="checklist"
            )
        version = lifecycle.version_approve(version=version, actor=actor, comment=comment)
        decision = version.transitions.filter(name="approve").order_by("-id").first()
        ReviewDecision.objects.create(
            transition=decision, checklist=[{"id": item.pk, "text": item.text} for item in required]
        )
        return version


def review_reject(*, version: Version | int, actor: Any, comment: str) -> Version:
    with transaction.atomic():
        version = _lock_version(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        require_claim_holder(version, actor, action="reject")
        return lifecycle.version_reject(version=version, actor=actor, comment=comment)


LEAD_PERMISSIONS = (
    *REVIEWER_PERMISSIONS,
    ("reviews", "lead_reviews"),
    ("reviews", "view_checklistitem"),
    ("reviews", "add_checklistitem"),
    ("reviews", "change_checklistitem"),
    ("reviews", "delete_checklistitem"),
)


def review_leads_group_sync() -> Group:
    """The `Review leads` group with exactly LEAD_PERMISSIONS (as its data migration makes it)."""
    group, _ = Group.objects.get_or_create(name=LEADS_GROUP)
    query = Q(pk__in=[])
    for app_label, codename in LEAD_PERMISSIONS:
        query |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(query))
    return group
