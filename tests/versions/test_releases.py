"""Release controls (issue #16 items 2 and 4): re-release as a new, higher version; scheduled publish."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from core.models import AuditEvent
from marketplace.scopes import scope_change
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    ScopeFactory,
    VersionFactory,
    verified,
)
from versions import services
from versions.models import State, Version, VersionTransition
from versions.numbers import MAJOR, MINOR, PATCH, parse_version
from versions.policies import release_content, rerelease_review_reason
from versions.schemes import rerelease_bump, rerelease_number
from versions.services.releases import publish_time_from_local, versions_publish_due
from versions.tasks import publish_scheduled_versions

pytestmark = pytest.mark.django_db

READ, WRITE = "read:jira-work", "write:jira-work"


@pytest.fixture
def owner():
    member = MembershipFactory(role="owner")
    verified(member.user)
    ScopeFactory(name=READ, sensitivity=1)
    ScopeFactory(name=WRITE, sensitivity=2)
    return member


@pytest.fixture
def listing(owner):
    return ListingFactory(vendor=owner.vendor)


def released(listing, number, state, *, reviewed=True, **fields):
    """A released version as the lifecycle leaves it: with the audit row of its review/publish."""
    version = VersionFactory(listing=listing, number=number, state=state, **fields)
    if reviewed:
        VersionTransition.objects.create(version=version, name="approve", from_state="in_review", to_state="approved")
    return version


# --- the pure rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "old", "new", "paid", "api", "bump"),
    [
        ("manual", [READ, WRITE], [READ], False, False, PATCH),  # rolling back a scope removal... none added
        ("manual", [READ], [READ, WRITE], False, False, MINOR),  # bringing a scope back is a feature change
        ("manual", [READ], [READ], True, False, MINOR),  # free -> paid
        ("connect", [READ], [READ], False, False, PATCH),
        ("connect", [READ, WRITE], [READ], False, False, MINOR),  # connect: any scope change is MINOR
        ("connect", [READ], [READ], False, True, MAJOR),  # another apiVersion
        ("forge", [READ], [READ], False, False, MINOR),  # forge has no PATCH
        ("forge", [READ], [WRITE], False, False, MAJOR),
        ("bundle", [], [], False, False, MINOR),  # MINOR counts the shares
        ("ocp", [READ], [READ, WRITE], False, False, PATCH),
    ],
)
def test_rerelease_bump_follows_the_scheme(scheme, old, new, paid, api, bump):
    change = scope_change(old, new, {READ: 1, WRITE: 2})
    assert rerelease_bump(scheme, scopes=change, free_to_paid=paid, api_version_changed=api) == bump


@pytest.mark.parametrize(
    ("scheme", "above", "like", "bump", "expected"),
    [
        ("manual", "1.4.2", "1.0.0", PATCH, "1.4.3"),
        ("manual", "1.4.2", "1.0.0", MINOR, "1.5.0"),
        ("connect", "3.1.0", "2.0.0", MAJOR, "4.0.0"),
        ("ocp", "1.3.0-beta.2", "1.2.0-beta.1", PATCH, "1.3.1-beta.1"),
        ("ocp", "1.3.0-private", "1.2.0-private", PATCH, "1.3.1-private"),
        ("ocp", "2.0.0", "1.0.0", PATCH, "2.0.1"),
    ],
)
def test_rerelease_number_is_the_next_step_above_the_highest(scheme, above, like, bump, expected):
    number = rerelease_number(scheme, above=parse_version(above), like=parse_version(like), bump=bump)
    assert number.text == expected
    assert number > parse_version(above)


def test_review_is_skipped_only_for_reviewed_content_that_needs_no_consent():
    assert rerelease_review_reason(matches_reviewed=True, consent=[]) is None
    assert "no version that was reviewed" in rerelease_review_reason(matches_reviewed=False, consent=[])
    assert "consent: new scope x" in rerelease_review_reason(matches_reviewed=True, consent=["new scope x"])


def test_release_content_ignores_order_but_not_values():
    a = Version(scopes=[READ, WRITE], compatibility=[{"product": "jira", "min": "9.0"}])
    b = Version(scopes=[WRITE, READ], compatibility=[{"min": "9.0", "product": "jira"}])
    c = Version(scopes=[READ], compatibility=[{"product": "jira", "min": "9.0"}])
    assert release_content(a) == release_content(b) != release_content(c)


# --- re-release: content, number, review --------------------------------------------------------


def test_rerelease_copies_the_content_under_the_next_patch_and_skips_review(listing, owner):
    HostProductFactory(key="jira")
    old = released(
        listing,
        "1.0.0",
        "superseded",
        scopes=[READ],
        compatibility=[{"product": "jira", "min": "9.0"}],
        api_version=2,
    )
    live = released(listing, "1.1.0", "published", scopes=[READ, WRITE], api_version=2)
    copy = services.version_rerelease(version=old, actor=owner.user)
    copy.refresh_from_db()
    assert copy.number == "1.1.1" and copy.channel == "release"
    assert copy.rereleased_from == old
    assert release_content(copy) == release_content(old)
    assert copy.state == State.PUBLISHED
    live.refresh_from_db()
    assert live.state == State.SUPERSEDED
    row = copy.transitions.get(name="release_without_review")
    assert "re-release of 1.0.0: review skipped" in row.comment and "live 1.1.0" in row.comment
    event = AuditEvent.objects.get(action="version.rerelease", object_id=copy.pk)
    assert event.details["rereleased_from"] == old.pk and event.details["review"] == "skipped"


def test_rerelease_left_approved_when_not_published_right_away(listing, owner):
    old = released(listing, "1.0.0", "superseded", scopes=[READ])
    released(listing, "1.1.0", "published", scopes=[READ])
    copy = services.version_rerelease(version=old, actor=owner.user, publish=False, update_notes="Back to 1.0.0.")
    assert copy.state == State.APPROVED and copy.update_notes == "Back to 1.0.0."
    assert copy.transitions.filter(name="approve_rerelease").exists()


def test_rerelease_that_needs_consent_goes_to_review_with_a_minor_number(listing, owner):
    old = released(listing, "1.0.0", "superseded", scopes=[READ, WRITE])
    released(listing, "1.1.0", "published", scopes=[READ])
    copy = services.version_rerelease(version=old, actor=owner.user)
    assert copy.number == "1.2.0"  # bringing write:jira-work back is a new scope: MINOR
    assert copy.state == State.PENDING_APPROVAL
    assert "consent" in copy.transitions.get(name="submit").comment
    assert Version.objects.get(listing=listing, state="published").number == "1.1.0"


def test_rerelease_of_content_never_reviewed_goes_to_review(listing, owner):
    old = released(listing, "1.0.0", "superseded", scopes=[READ], reviewed=False)
    released(listing, "1.1.0", "published", scopes=[READ], reviewed=False)
    copy = services.version_rerelease(version=old, actor=owner.user)
    assert copy.state == State.PENDING_APPROVAL
    assert "no version that was reviewed" in copy.transitions.get(name="submit").comment


def test_rerelease_skips_numbers_held_by_other_versions(listing, owner):
    old = released(listing, "1.0.0", "superseded")
    released(listing, "1.1.0", "published")
    VersionFactory(listing=listing, number="1.1.1", state="draft")
    copy = services.version_rerelease(version=old, actor=owner.user)
    assert copy.number == "1.1.2"


def test_rerelease_of_an_ocp_beta_stays_in_its_channel(owner):
    listing = ListingFactory(vendor=owner.vendor, scheme="ocp")
    old = released(listing, "1.2.0-beta.1", "superseded", channel="beta")
    released(listing, "1.3.0-beta.2", "published", channel="beta")
    released(listing, "2.0.0", "published", channel="release")
    copy = services.version_rerelease(version=old, actor=owner.user)
    assert (copy.number, copy.channel, copy.state) == ("1.3.1-beta.1", "beta", State.PUBLISHED)
    assert Version.objects.get(listing=listing, channel="release", state="published").number == "2.0.0"


@pytest.mark.parametrize("state", ["draft", "pending_approval", "approved", "published", "canceled", "rejected"])
def test_only_superseded_versions_can_be_re_released(listing, owner, state):
    version = VersionFactory(listing=listing, number="1.0.0", state=state)
    before = Version.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.version_rerelease(version=version, actor=owner.user)
    assert Version.objects.count() == before


def test_another_vendor_cannot_re_release(listing):
    old = released(listing, "1.0.0", "superseded")
    released(listing, "1.1.0", "published")
    stranger = MembershipFactory(role="owner").user
    with pytest.raises(NotFound):
        services.version_rerelease(version=old, actor=stranger)
    assert Version.objects.filter(listing=listing).count() == 2


# --- scheduled publish -----------------------------------------------------------------------


@pytest.fixture
def approved(listing):
    released(listing, "1.0.0", "published")
    return VersionFactory(listing=listing, number="1.1.0", state="approved")


def test_scheduled_publish_happens_once_at_its_time_not_before(approved, owner):
    at = timezone.now() + timedelta(hours=2)
    services.version_schedule_publish(version=approved, actor=owner.user, publish_at=at, time_zone="Europe/Berlin")
    assert versions_publish_due(now=at - timedelta(seconds=1)) == []
    approved.refresh_from_db()
    assert approved.state == State.APPROVED and approved.publish_at == at
    assert versions_publish_due(now=at) == [approved.pk]
    approved.refresh_from_db()
    assert approved.state == State.PUBLISHED and approved.publish_at is None
    assert versions_publish_due(now=at + timedelta(hours=1)) == []  # idempotent: a second run does nothing
    assert approved.transitions.filter(name="publish").count() == 1
    row = approved.transitions.get(name="publish")
    assert row.actor is None and "scheduled publish" in row.comment and owner.user.username in row.comment
    assert AuditEvent.objects.filter(action="version.schedule_publish", object_id=approved.pk).count() == 1


def test_beat_task_publishes_only_due_versions(approved, owner, listing):
    services.version_schedule_publish(
        version=approved, actor=owner.user, publish_at=timezone.now() + timedelta(minutes=5)
    )
    assert publish_scheduled_versions() == 0
    Version.objects.filter(pk=approved.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    assert publish_scheduled_versions() == 1
    assert publish_scheduled_versions() == 0
    assert Version.objects.get(listing=listing, state="published").pk == approved.pk


def test_schedule_can_be_moved_and_cancelled_until_then(approved, owner):
    first = timezone.now() + timedelta(hours=1)
    later = timezone.now() + timedelta(hours=5)
    services.version_schedule_publish(version=approved, actor=owner.user, publish_at=first)
    services.version_schedule_publish(version=approved, actor=owner.user, publish_at=later)
    assert versions_publish_due(now=first + timedelta(minutes=1)) == []
    event = AuditEvent.objects.get(action="version.reschedule_publish", object_id=approved.pk)
    assert event.details["previous_publish_at"] == first.isoformat()
    services.version_unschedule_publish(version=approved, actor=owner.user)
    assert versions_publish_due(now=later + timedelta(minutes=1)) == []
    approved.refresh_from_db()
    assert approved.state == State.APPROVED and approved.publish_at is None
    assert AuditEvent.objects.filter(action="version.unschedule_publish", object_id=approved.pk).exists()


def test_withdrawing_drops_the_schedule(approved, owner):
    at = timezone.now() + timedelta(hours=1)
    services.version_schedule_publish(version=approved, actor=owner.user, publish_at=at)
    services.version_withdraw(version=approved, actor=owner.user)
    approved.refresh_from_db()
    assert approved.publish_at is None
    assert versions_publish_due(now=at) == []


@pytest.mark.parametrize(
    ("state", "delta", "field"),
    [("draft", timedelta(hours=1), "state"), ("approved", -timedelta(minutes=1), "publish_at")],
)
def test_bad_schedules_are_refused_and_change_nothing(listing, owner, state, delta, field):
    version = VersionFactory(listing=listing, number="2.0.0", state=state)
    with pytest.raises(ApplicationError) as exc:
        services.version_schedule_publish(version=version, actor=owner.user, publish_at=timezone.now() + delta)
    assert exc.value.field == field
    version.refresh_from_db()
    assert version.publish_at is None
    assert not AuditEvent.objects.filter(action__contains="schedule").exists()


def test_schedule_in_the_past_names_the_time_in_the_zone(approved, owner):
    with pytest.raises(ApplicationError) as exc:
        services.version_schedule_publish(
            version=approved, actor=owner.user, publish_at=timezone.now() - timedelta(hours=1), time_zone="Asia/Tokyo"
        )
    assert "in Asia/Tokyo now" in exc.value.message


def test_another_vendor_cannot_schedule(approved):
    stranger = verified(MembershipFactory(role="owner").user)
    with pytest.raises(NotFound):
        services.version_schedule_publish(
            version=approved, actor=stranger, publish_at=timezone.now() + timedelta(hours=1)
        )


def test_a_publish_the_rules_now_refuse_drops_the_schedule_with_a_reason(approved, owner, listing):
    at = timezone.now() + timedelta(hours=1)
    services.version_schedule_publish(version=approved, actor=owner.user, publish_at=at)
    Version.objects.filter(listing=listing, state="published").update(state="superseded")
    VersionFactory(listing=listing, number="1.2.0", state="published")  # a higher version went live meanwhile
    assert versions_publish_due(now=at) == []
    approved.refresh_from_db()
    assert approved.state == State.APPROVED and approved.publish_at is None
    event = AuditEvent.objects.get(action="version.scheduled_publish_failed", object_id=approved.pk)
    assert "1.2.0" in event.details["error"]


def test_local_time_is_read_in_its_zone():
    at = publish_time_from_local(local=datetime(2026, 7, 1, 9, 30), time_zone="Europe/Berlin")
    assert at == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    with pytest.raises(ApplicationError) as exc:
        publish_time_from_local(local=datetime(2026, 3, 29, 2, 30), time_zone="Europe/Berlin")
    assert exc.value.field == "publish_at" and "does not exist" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        publish_time_from_local(local=datetime(2026, 7, 1, 9, 30), time_zone="Mars/Olympus")
    assert exc.value.field == "time_zone"
