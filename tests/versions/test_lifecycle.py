"""The version state machine through the services: every allowed and every
forbidden transition of DESIGN.md section 4, permissions, audit rows."""

import pytest

from core.errors import ApplicationError, NotFound, PermissionDenied, TransitionNotAllowed
from core.models import AuditEvent
from tests.factories import ListingFactory, MembershipFactory, ReviewerFactory, UserFactory, VersionFactory
from versions import services
from versions.models import State, Version, VersionTransition

pytestmark = pytest.mark.django_db

ALL_STATES = [s.value for s in State]
ALLOWED = {
    "submit": {"draft": "pending_approval"},
    "cancel": {
        "draft": "canceled",
        "pending_approval": "canceled",
        "in_review": "canceled",
        "needs_information": "canceled",
    },
    "start_review": {"pending_approval": "in_review"},
    "approve": {"in_review": "approved"},
    "reject": {"in_review": "rejected"},
    "publish": {"approved": "published"},
    # Submitted versions are read-only (DESIGN.md section 4): only drafts and rejections are edited.
    "edit": {"draft": "draft", "rejected": "draft"},
    "withdraw": {"pending_approval": "draft", "in_review": "draft", "approved": "draft", "needs_information": "draft"},
    "release_to_queue": {"in_review": "pending_approval"},
}


@pytest.fixture
def people():
    owner = MembershipFactory(role="owner")
    return {"vendor": owner.user, "reviewer": ReviewerFactory(), "listing": ListingFactory(vendor=owner.vendor)}


def _run(action, version, people):
    vendor, reviewer = people["vendor"], people["reviewer"]
    if action == "submit":
        return services.version_submit(version=version, actor=vendor)
    if action == "cancel":
        return services.version_cancel(version=version, actor=vendor)
    if action == "start_review":
        return services.version_start_review(version=version, actor=reviewer)
    if action == "approve":
        return services.version_approve(version=version, actor=reviewer)
    if action == "reject":
        return services.version_reject(version=version, actor=reviewer, comment="Please fix the notes.")
    if action == "publish":
        return services.version_publish(version=version, actor=vendor)
    if action == "edit":
        return services.version_update(version=version, actor=vendor, update_notes="Edited notes.")
    if action == "withdraw":
        return services.version_withdraw(version=version, actor=vendor, comment="forgot a scope")
    if action == "release_to_queue":
        return services.version_release_to_queue(version=version, actor=reviewer)
    raise AssertionError(action)


CASES = [(action, state) for action in ALLOWED for state in ALL_STATES]


@pytest.mark.parametrize(("action", "state"), CASES)
def test_transition_table(people, action, state):
    version = VersionFactory(listing=people["listing"], number="1.0.0", state=state)
    before = VersionTransition.objects.count()
    expected = ALLOWED[action].get(state)
    if expected is None:
        with pytest.raises(ApplicationError) as exc:
            _run(action, version, people)
        assert (
            version.number in exc.value.message or "immutable" in exc.value.message or "canceled" in exc.value.message
        )
        version.refresh_from_db()
        assert version.state == state
        assert VersionTransition.objects.count() == before
    else:
        _run(action, version, people)
        version.refresh_from_db()
        assert version.state == expected
        if expected != state:
            row = VersionTransition.objects.get(version=version)
            assert (row.from_state, row.to_state) == (state, expected)


@pytest.mark.parametrize("state", ALL_STATES)
def test_duplicate_only_from_final_states(people, state):
    version = VersionFactory(listing=people["listing"], number="1.0.0", state=state, scopes=["read:jira-work"])
    if state in ("canceled", "published", "superseded", "rejected"):
        copy = services.version_duplicate(version=version, actor=people["vendor"])
        assert copy.state == "draft" and copy.pk != version.pk
        assert copy.scopes == ["read:jira-work"] and copy.duplicated_from == version
        version.refresh_from_db()
        assert version.state == state
    else:
        with pytest.raises(TransitionNotAllowed):
            services.version_duplicate(version=version, actor=people["vendor"])


def test_full_happy_path_writes_one_audit_row_per_transition(people):
    vendor, reviewer, listing = people["vendor"], people["reviewer"], people["listing"]
    v = services.version_create(listing=listing, actor=vendor, number="1.0.0", update_notes="First.")
    services.version_submit(version=v, actor=vendor)
    services.version_start_review(version=v, actor=reviewer)
    services.version_approve(version=v, actor=reviewer, comment="ok")
    services.version_publish(version=v, actor=vendor)
    rows = list(v.transitions.order_by("id").values_list("name", "from_state", "to_state", "actor__username"))
    assert rows == [
        ("create", "", "draft", vendor.username),
        ("submit", "draft", "pending_approval", vendor.username),
        ("start_review", "pending_approval", "in_review", reviewer.username),
        ("approve", "in_review", "approved", reviewer.username),
        ("publish", "approved", "published", vendor.username),
    ]
    v.refresh_from_db()
    assert v.reviewer == reviewer and v.published_at and v.submitted_at


def test_publishing_supersedes_the_live_version_of_the_channel_only(people):
    listing = people["listing"]
    old = VersionFactory(listing=listing, number="1.0.0", state="published")
    other_channel = VersionFactory(listing=listing, number="1.0.0-stash", channel="stash", state="published")
    new = VersionFactory(listing=listing, number="1.1.0", state="approved")
    services.version_publish(version=new, actor=people["vendor"])
    old.refresh_from_db()
    other_channel.refresh_from_db()
    assert old.state == "superseded" and other_channel.state == "published"
    assert old.transitions.get().comment == "superseded by 1.1.0"


def test_submit_requires_a_number_above_every_published_one(people):
    listing = people["listing"]
    VersionFactory(listing=listing, number="2.0.0", state="superseded")
    VersionFactory(listing=listing, number="2.1.0", state="published")
    low = VersionFactory(listing=listing, number="2.0.5", state="draft")
    with pytest.raises(ApplicationError) as exc:
        services.version_submit(version=low, actor=people["vendor"])
    assert exc.value.field == "number" and "2.1.0 was published already" in exc.value.message
    low.refresh_from_db()
    assert low.state == "draft"


def test_reject_requires_comments(people):
    version = VersionFactory(listing=people["listing"], state="in_review")
    with pytest.raises(ApplicationError) as exc:
        services.version_reject(version=version, actor=people["reviewer"], comment="  ")
    assert exc.value.field == "comment"
    version.refresh_from_db()
    assert version.state == "in_review"


def test_reviewer_of_the_vendor_cannot_review(people):
    reviewer = people["reviewer"]
    MembershipFactory(vendor=people["listing"].vendor, user=reviewer)
    version = VersionFactory(listing=people["listing"], state="pending_approval")
    with pytest.raises(PermissionDenied) as exc:
        services.version_start_review(version=version, actor=reviewer)
    assert "belong to this version's vendor" in exc.value.message


def test_staff_without_review_permission_cannot_review(people):
    staff = UserFactory(is_staff=True)
    version = VersionFactory(listing=people["listing"], state="pending_approval")
    with pytest.raises(PermissionDenied):
        services.version_start_review(version=version, actor=staff)
    with pytest.raises(PermissionDenied):
        services.version_start_review(version=version, actor=people["vendor"])


def test_other_vendor_cannot_touch_a_version(people):
    stranger = MembershipFactory().user
    version = VersionFactory(listing=people["listing"], state="draft")
    with pytest.raises(NotFound):
        services.version_submit(version=version, actor=stranger)
    with pytest.raises(NotFound):
        services.version_update(version=version, actor=stranger, update_notes="hacked")
    version.refresh_from_db()
    assert version.update_notes == "Bug fixes." and version.state == "draft"


def test_staff_may_cancel_and_publish_but_not_edit(people):
    staff = UserFactory(is_staff=True)
    pending = VersionFactory(listing=people["listing"], number="1.0.0", state="pending_approval")
    services.version_cancel(version=pending, actor=staff, comment="duplicate submission")
    approved = VersionFactory(listing=people["listing"], number="1.0.1", state="approved")
    services.version_publish(version=approved, actor=staff)
    assert Version.objects.get(pk=approved.pk).state == "published"
    with pytest.raises(NotFound):
        services.version_update(
            version=VersionFactory(listing=people["listing"], number="1.0.2"), actor=staff, update_notes="x"
        )


@pytest.mark.parametrize("state", ["pending_approval", "in_review", "approved"])
def test_a_submitted_version_is_read_only_until_withdrawn(people, state):
    version = VersionFactory(listing=people["listing"], number="1.0.0", state=state, scopes=["read:jira-work"])
    with pytest.raises(TransitionNotAllowed) as exc:
        services.version_update(version=version, actor=people["vendor"], scopes=["read:jira-work", "write:jira-work"])
    assert exc.value.field == "state" and "withdraw it to draft" in exc.value.message
    version.refresh_from_db()
    assert version.state == state and version.scopes == ["read:jira-work"] and not version.transitions.exists()

    services.version_withdraw(version=version, actor=people["vendor"], comment="  adding write access  ")
    services.version_update(version=version, actor=people["vendor"], scopes=["read:jira-work", "write:jira-work"])
    version.refresh_from_db()
    assert version.state == "draft" and version.scopes == ["read:jira-work", "write:jira-work"]
    assert version.submitted_at is None and version.reviewer is None
    row = version.transitions.get(name="withdraw")
    assert (row.from_state, row.to_state, row.actor, row.comment) == (
        state,
        "draft",
        people["vendor"],
        "adding write access",
    )
    event = AuditEvent.objects.get(action="version.withdraw")
    assert (event.from_state, event.to_state, event.object_id) == (state, "draft", version.pk)


def test_withdraw_without_a_reason_and_only_by_the_vendor(people):
    version = VersionFactory(listing=people["listing"], number="1.0.0", state="pending_approval")
    with pytest.raises(NotFound):
        services.version_withdraw(version=version, actor=MembershipFactory().user)
    with pytest.raises(NotFound):
        services.version_withdraw(version=version, actor=UserFactory(is_staff=True))
    assert Version.objects.get(pk=version.pk).state == "pending_approval"
    services.version_withdraw(version=version, actor=people["vendor"])
    assert version.transitions.get().comment == ""


def test_release_to_queue_gives_the_version_back_to_any_reviewer(people):
    version = VersionFactory(listing=people["listing"], number="1.0.0", state="pending_approval")
    services.version_start_review(version=version, actor=people["reviewer"])
    submitted_at = Version.objects.get(pk=version.pk).submitted_at
    with pytest.raises(PermissionDenied):
        services.version_release_to_queue(version=version, actor=people["vendor"])
    services.version_release_to_queue(version=version, actor=people["reviewer"], comment="out this week")
    version.refresh_from_db()
    assert version.state == "pending_approval" and version.reviewer is None
    assert version.submitted_at == submitted_at  # it keeps its place in the queue
    row = version.transitions.first()
    assert (row.name, row.from_state, row.to_state, row.comment) == (
        "release_to_queue",
        "in_review",
        "pending_approval",
        "out this week",
    )
    other = ReviewerFactory()
    services.version_start_review(version=version, actor=other)
    assert Version.objects.get(pk=version.pk).reviewer == other


def test_editing_a_rejected_version_returns_it_to_draft(people):
    version = VersionFactory(listing=people["listing"], number="1.0.0", state="rejected", scopes=["read:jira-work"])
    services.version_update(version=version, actor=people["vendor"], scopes=["read:jira-work", "write:jira-work"])
    version.refresh_from_db()
    assert version.state == "draft" and version.scopes == ["read:jira-work", "write:jira-work"]
    row = version.transitions.get()
    assert row.name == "return_to_draft" and "scopes" in row.comment


def test_an_unchanged_edit_changes_nothing(people):
    version = VersionFactory(listing=people["listing"], number="1.0.0", state="rejected", update_notes="Same.")
    services.version_update(version=version, actor=people["vendor"], update_notes="Same.")
    version.refresh_from_db()
    assert version.state == "rejected" and not version.transitions.exists()


def test_ocp_dev_versions_skip_review(people):
    listing = ListingFactory(vendor=people["listing"].vendor, scheme="ocp")
    dev = services.version_create(listing=listing, actor=people["vendor"], number="1.0.0-dev.1", update_notes="WIP")
    services.version_submit(version=dev, actor=people["vendor"])
    dev.refresh_from_db()
    assert dev.state == "published" and dev.channel == "dev"
    beta = services.version_create(listing=listing, actor=people["vendor"], number="1.0.0-beta.1", update_notes="Beta")
    services.version_submit(version=beta, actor=people["vendor"])
    beta.refresh_from_db()
    assert beta.state == "pending_approval" and beta.channel == "beta"


def test_system_versions_publish_at_once_unless_free_turns_paid(people):
    listing = ListingFactory(
        vendor=people["listing"].vendor, scheme="connect", descriptor_url="https://x.example.com/d.json"
    )
    first = services.version_create(listing=listing, actor=None, number="1.0.0", update_notes="Auto", source="poll")
    services.version_submit(version=first, actor=None)
    assert Version.objects.get(pk=first.pk).state == "published"
    paid = services.version_create(
        listing=listing, actor=None, number="1.1.0", update_notes="Now paid", source="poll", pricing="paid"
    )
    services.version_submit(version=paid, actor=None)
    assert Version.objects.get(pk=paid.pk).state == "pending_approval"
    assert paid.transitions.filter(actor__isnull=True).exists()


def test_a_form_version_needs_a_user(people):
    with pytest.raises(NotFound):
        services.version_create(listing=people["listing"], actor=None, number="1.0.0", update_notes="x")


def test_publishing_needs_a_second_factor_when_the_marketplace_requires_it(people, settings):
    from allauth.mfa.models import Authenticator

    from core.errors import PermissionDenied

    approved = VersionFactory(listing=people["listing"], number="1.0.0", state="approved")
    settings.MFA_REQUIRED = True
    with pytest.raises(PermissionDenied, match="Turn on two-factor authentication before you publish a version"):
        services.version_publish(version=approved, actor=people["vendor"])
    approved.refresh_from_db()
    assert approved.state == "approved" and not approved.transitions.exists()
    Authenticator.objects.create(user=people["vendor"], type=Authenticator.Type.TOTP, data={"secret": "x"})
    services.version_publish(version=approved, actor=people["vendor"])
    approved.refresh_from_db()
    assert approved.state == "published"


def test_publishing_needs_a_verified_address(people):
    from tests.factories import unverified

    approved = VersionFactory(listing=people["listing"], number="1.0.0", state="approved")
    unverified(people["vendor"])
    with pytest.raises(PermissionDenied, match="Verify your e-mail address before you publish a version"):
        services.version_publish(version=approved, actor=people["vendor"])
    approved.refresh_from_db()
    assert approved.state == "approved"
