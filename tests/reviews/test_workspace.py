"""The reviewer workspace's services: claims, questions and replies, notes, the checklist, metrics.

Each refusal asserts the message and that nothing changed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_fsm import can_proceed

from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, TransitionNotAllowed
from core.models import AuditEvent
from reviews.models import ChecklistItem, ReviewDecision, ReviewerNote, ReviewMessage
from reviews.selectors import (
    checklist_for,
    review_metrics,
    review_thread,
    reviewer_notes,
    vendor_review_history,
)
from reviews.services import (
    review_approve,
    review_ask,
    review_assign,
    review_claim,
    review_reject,
    review_release,
    review_reply,
    reviewer_note_add,
)
from tests.factories import MembershipFactory, UserFactory
from versions.models import State, Version, VersionTransition

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(vendor_listing):
    return vendor_listing.member


def _ticks(version) -> list[int]:
    return [item.pk for item in checklist_for(scheme=version.listing.scheme)]


# --- the state machine -------------------------------------------------------------------------


def test_needs_information_transitions_go_from_in_review_and_back(pending):
    version = Version.objects.get(pk=pending.pk)
    assert not can_proceed(version.request_information)  # pending: nobody reviews it yet
    version.start_review()
    assert can_proceed(version.request_information)
    version.request_information()
    assert version.state == State.NEEDS_INFORMATION
    assert not can_proceed(version.approve) and not can_proceed(version.reject)
    assert can_proceed(version.withdraw) and can_proceed(version.cancel)
    version.information_provided()
    assert version.state == State.IN_REVIEW
    assert not can_proceed(version.information_provided)


# --- claims --------------------------------------------------------------------------------------


def test_claim_starts_the_review_as_the_claimer(pending, group_reviewer):
    version = review_claim(version=pending, actor=group_reviewer)
    assert (version.state, version.reviewer) == (State.IN_REVIEW, group_reviewer)
    assert version.transitions.get(name="start_review").actor == group_reviewer


def test_claiming_what_someone_else_holds_is_refused(claimed, other_reviewer):
    with pytest.raises(Conflict, match=f"claimed by {claimed.reviewer.username}"):
        review_claim(version=claimed, actor=other_reviewer)
    assert Version.objects.get(pk=claimed.pk).reviewer_id == claimed.reviewer_id


def test_claiming_twice_says_you_hold_it(claimed, group_reviewer):
    with pytest.raises(Conflict, match="You already hold the claim"):
        review_claim(version=claimed, actor=group_reviewer)


def test_a_lapsed_claim_may_be_taken_over(settings, claimed, other_reviewer):
    settings.REVIEW_CLAIM_EXPIRY_HOURS = 1
    VersionTransition.objects.filter(version=claimed).update(at=claimed.submitted_at - timedelta(hours=3))
    Version.objects.filter(pk=claimed.pk).update(submitted_at=claimed.submitted_at - timedelta(hours=3))
    version = review_claim(version=claimed.pk, actor=other_reviewer)
    assert Version.objects.get(pk=claimed.pk).reviewer == other_reviewer == version.reviewer
    assert AuditEvent.objects.filter(action="review.claim_taken_over", object_id=claimed.pk).exists()


def test_only_the_holder_or_a_lead_releases(claimed, other_reviewer, lead):
    with pytest.raises(Conflict):
        review_release(version=claimed, actor=other_reviewer)
    assert Version.objects.get(pk=claimed.pk).state == State.IN_REVIEW
    version = review_release(version=claimed, actor=lead, comment="rebalancing")
    assert (version.state, version.reviewer) == (State.PENDING_APPROVAL, None)


def test_a_lead_assigns_and_reassigns(pending, group_reviewer, other_reviewer, lead):
    version = review_assign(version=pending, actor=lead, reviewer=group_reviewer)
    assert (version.state, Version.objects.get(pk=pending.pk).reviewer) == (State.IN_REVIEW, group_reviewer)
    review_assign(version=pending, actor=lead, reviewer=other_reviewer)
    assert Version.objects.get(pk=pending.pk).reviewer == other_reviewer
    assert AuditEvent.objects.filter(action="review.assigned", object_id=pending.pk).count() == 2


def test_a_reviewer_who_is_not_a_lead_cannot_assign(pending, group_reviewer, other_reviewer):
    with pytest.raises(PermissionDenied, match="Only review leads"):
        review_assign(version=pending, actor=group_reviewer, reviewer=other_reviewer)
    assert Version.objects.get(pk=pending.pk).state == State.PENDING_APPROVAL


def test_a_lead_cannot_assign_to_a_member_of_the_vendor(pending, lead, reviewers_group):
    conflicted = UserFactory(is_staff=True)
    conflicted.groups.add(reviewers_group)
    MembershipFactory(vendor=pending.listing.vendor, user=conflicted)
    with pytest.raises(PermissionDenied, match="may not review"):
        review_assign(version=pending, actor=lead, reviewer=conflicted)
    assert Version.objects.get(pk=pending.pk).reviewer is None


def test_reviewing_your_own_vendors_version_is_still_refused(pending, reviewers_group):
    conflicted = UserFactory(is_staff=True)
    conflicted.groups.add(reviewers_group)
    MembershipFactory(vendor=pending.listing.vendor, user=conflicted)
    with pytest.raises(PermissionDenied, match="belong to this version's vendor"):
        review_claim(version=pending, actor=conflicted)
    assert Version.objects.get(pk=pending.pk).state == State.PENDING_APPROVAL


# --- needs information -----------------------------------------------------------------------


def test_ask_moves_to_needs_information_and_emails_the_vendor(
    claimed, group_reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = review_ask(version=claimed, actor=group_reviewer, body="  Why write access?  ")
    version = Version.objects.get(pk=claimed.pk)
    assert version.state == State.NEEDS_INFORMATION and version.reviewer == group_reviewer
    assert message.body == "Why write access?"
    assert version.transitions.get(name="request_information").comment == "Why write access?"
    assert len(mailoutbox) == 1 and "Why write access?" in mailoutbox[0].body
    assert mailoutbox[0].subject == "Question from the reviewer: Acme Timer 1.1.0"
    assert ReviewMessage.objects.get(pk=message.pk).emailed_at is not None
    # A second run of the task sends nothing.
    from reviews.emails import review_question_email_send

    assert review_question_email_send(message_id=message.pk) is None
    assert len(mailoutbox) == 1


def test_an_empty_question_is_refused(claimed, group_reviewer):
    with pytest.raises(ApplicationError, match="cannot be empty") as exc:
        review_ask(version=claimed, actor=group_reviewer, body="   ")
    assert exc.value.field == "body"
    assert Version.objects.get(pk=claimed.pk).state == State.IN_REVIEW
    assert not ReviewMessage.objects.exists()


def test_only_the_holder_asks(claimed, other_reviewer):
    with pytest.raises(Conflict):
        review_ask(version=claimed, actor=other_reviewer, body="Hello?")
    assert Version.objects.get(pk=claimed.pk).state == State.IN_REVIEW


def test_the_vendor_reply_returns_the_version_to_its_reviewer(member, claimed, group_reviewer):
    review_ask(version=claimed, actor=group_reviewer, body="Why write access?")
    reply = review_reply(version=claimed.pk, actor=member, body="To log work.")
    version = Version.objects.get(pk=claimed.pk)
    assert (version.state, version.reviewer) == (State.IN_REVIEW, group_reviewer)
    assert [m.kind for m in review_thread(version=version)] == ["question", "reply"]
    assert reply.author == member
    assert version.transitions.get(name="information_provided").actor == member


def test_replying_on_another_vendors_version_is_not_found(claimed, group_reviewer):
    review_ask(version=claimed, actor=group_reviewer, body="Why write access?")
    stranger = MembershipFactory(role="owner").user
    with pytest.raises(NotFound):
        review_reply(version=claimed, actor=stranger, body="Not mine.")
    assert Version.objects.get(pk=claimed.pk).state == State.NEEDS_INFORMATION
    assert ReviewMessage.objects.count() == 1


def test_an_empty_reply_is_refused(member, claimed, group_reviewer):
    review_ask(version=claimed, actor=group_reviewer, body="Why write access?")
    with pytest.raises(ApplicationError, match="reply: it cannot be empty"):
        review_reply(version=claimed, actor=member, body="")
    assert Version.objects.get(pk=claimed.pk).state == State.NEEDS_INFORMATION


def test_a_reply_without_an_open_question_is_refused(member, claimed):
    with pytest.raises(TransitionNotAllowed, match="no open question"):
        review_reply(version=claimed, actor=member, body="Hello")
    assert not ReviewMessage.objects.exists()


def test_the_vendors_withdraw_and_resubmit_returns_it_to_the_queue(member, claimed, group_reviewer):
    from versions import services

    review_ask(version=claimed, actor=group_reviewer, body="Please drop write access.")
    version = services.version_withdraw(version=claimed, actor=member)
    assert (version.state, version.reviewer) == (State.DRAFT, None)
    services.version_update(version=version, actor=member, scopes=["read:jira-work"])
    version = services.version_submit(version=version, actor=member)
    assert version.state == State.PENDING_APPROVAL


# --- notes and history ------------------------------------------------------------------------


def test_private_notes_on_the_version_and_the_vendor(claimed, group_reviewer):
    reviewer_note_add(actor=group_reviewer, version=claimed, body="Checked the privacy page.")
    reviewer_note_add(actor=group_reviewer, vendor=claimed.listing.vendor, body="Slow to answer.")
    assert [n.body for n in reviewer_notes(version=claimed)] == ["Slow to answer.", "Checked the privacy page."]


def test_a_vendor_cannot_write_notes_and_empty_notes_are_refused(member, claimed, group_reviewer):
    with pytest.raises(PermissionDenied):
        reviewer_note_add(actor=member, version=claimed, body="Let me in")
    with pytest.raises(ApplicationError, match="note: it cannot be empty"):
        reviewer_note_add(actor=group_reviewer, version=claimed, body=" ")
    assert not ReviewerNote.objects.exists()


def test_vendor_history_counts_decisions_and_open_questions(claimed, group_reviewer):
    review_reject(version=claimed, actor=group_reviewer, comment="Needs a privacy link.")
    history = vendor_review_history(vendor_id=claimed.listing.vendor_id)
    assert (history.rejected, history.approved, history.open_questions) == (1, 0, 0)
    assert history.recent_rejections[0].comment == "Needs a privacy link."


# --- the checklist and the decision -------------------------------------------------------------


def test_the_migration_seeds_a_checklist_per_scheme(db):
    manual = [item.text for item in checklist_for(scheme="manual")]
    connect = [item.text for item in checklist_for(scheme="connect")]
    assert "The scopes asked for are justified by the update notes" in manual
    assert "The descriptor was fetched from the listing's descriptor URL" in connect
    assert "The descriptor was fetched from the listing's descriptor URL" not in manual


def test_approving_with_the_checklist_incomplete_is_refused(claimed, group_reviewer):
    ticks = _ticks(claimed)
    with pytest.raises(ApplicationError, match="Tick every checklist item") as exc:
        review_approve(version=claimed, actor=group_reviewer, ticked=ticks[1:])
    assert exc.value.field == "checklist"
    assert Version.objects.get(pk=claimed.pk).state == State.IN_REVIEW
    assert not ReviewDecision.objects.exists()


def test_approve_stores_the_ticks_with_the_decision(claimed, group_reviewer):
    ChecklistItem.objects.create(text="Retired item", active=False)
    version = review_approve(version=claimed, actor=group_reviewer, ticked=_ticks(claimed), comment="ok")
    assert version.state == State.APPROVED
    decision = ReviewDecision.objects.get(transition__version=claimed, transition__name="approve")
    assert [t["text"] for t in decision.checklist] == [i.text for i in checklist_for(scheme="manual")]


def test_only_the_holder_approves_or_rejects(claimed, other_reviewer):
    with pytest.raises(Conflict):
        review_approve(version=claimed, actor=other_reviewer, ticked=_ticks(claimed))
    with pytest.raises(Conflict):
        review_reject(version=claimed, actor=other_reviewer, comment="no")
    assert Version.objects.get(pk=claimed.pk).state == State.IN_REVIEW


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_count_decisions_per_reviewer_and_the_median_wait(claimed, group_reviewer, vendor_listing):
    submit = VersionTransition.objects.create(
        version=claimed, name="submit", from_state="draft", to_state="pending_approval"
    )
    VersionTransition.objects.filter(pk=submit.pk).update(at=submit.at - timedelta(hours=10))
    review_approve(version=claimed, actor=group_reviewer, ticked=_ticks(claimed))
    metrics = review_metrics(weeks=4)
    assert metrics.decisions == 1
    assert [(row.reviewer, row.decisions) for row in metrics.per_reviewer_week] == [(group_reviewer.username, 1)]
    assert 9.9 <= metrics.median_hours_to_decision <= 10.1


def test_a_reviewer_of_the_vendor_cannot_keep_notes_about_it(claimed, reviewers_group):
    insider = UserFactory(is_staff=True)
    insider.groups.add(reviewers_group)
    MembershipFactory(vendor=claimed.listing.vendor, user=insider)
    with pytest.raises(PermissionDenied, match="belong to this vendor"):
        reviewer_note_add(actor=insider, vendor=claimed.listing.vendor, body="Inside view")
    assert not ReviewerNote.objects.exists()
