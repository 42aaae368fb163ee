"""Staged rollouts (issue #16, item 1): the stage filter in SQL, advancing by hand and on schedule,
consent requests as each stage comes, the update check by stage, the automatic halt and its e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from core.models import AuditEvent
from tests.factories import MembershipFactory, VersionFactory
from tests.upgrades.world import make_world
from upgrades import services
from upgrades.models import Installation, Rollout, Upgrade, UpgradeRequest
from upgrades.selectors import site_updates
from upgrades.selectors.stages import stage_bucket_expression
from versions import policies
from versions.models import Version
from versions.services.stages import version_publish_in_stages

pytestmark = pytest.mark.django_db

STAGES = [30, 60, 100]


@pytest.fixture
def big_world(catalogue):
    return make_world(sites=12)


def publish_staged(world, number, capture, *, stages=STAGES, scopes=None, **plan):
    version = VersionFactory(
        listing=world.listing, number=number, scopes=list(scopes or world.v1.scopes), state="approved"
    )
    with capture(execute=True):
        version_publish_in_stages(version=version, actor=world.vendor_user, stages=stages, **plan)
    return Version.objects.get(pk=version.pk)


def in_stage(world, version, percent):
    limit = policies.stage_bucket_limit(percent)
    return {i.pk for i in world.installations if policies.stage_reached(i.pk, version.pk, limit)}


def offered(version):
    return set(Upgrade.objects.filter(to_version=version).values_list("installation_id", flat=True)) | set(
        UpgradeRequest.objects.filter(to_version=version).values_list("installation_id", flat=True)
    )


def test_the_sql_bucket_is_the_pure_bucket(big_world):
    rows = Installation.objects.annotate(b=stage_bucket_expression("pk", 987654)).values_list("pk", "b")
    assert rows and all(b == policies.stage_bucket(pk, 987654) for pk, b in rows)
    # Large ids too: every intermediate stays within 64 bits on both databases.
    big = Installation.objects.annotate(b=stage_bucket_expression("pk", 2**31 - 2)).values_list("pk", "b")
    assert all(b == policies.stage_bucket(pk, 2**31 - 2) for pk, b in big)


def test_publishing_in_stages_offers_the_first_stage_only(big_world, django_capture_on_commit_callbacks):
    v2 = publish_staged(big_world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    first = in_stage(big_world, v2, 30)
    assert 0 < len(first) < 12  # the test world's ids put some, not all, in the first 30 %
    assert rollout.stages == STAGES and rollout.stage_index == 0 and rollout.state == "running"
    assert offered(v2) == first
    # Not completed: the rollout waits for its next stage.
    assert rollout.targeted == len(first)
    assert AuditEvent.objects.filter(action="rollout.stage_begin", object_id=str(rollout.pk)).exists()


def test_advancing_grows_the_stage_and_never_shrinks_it(big_world, django_capture_on_commit_callbacks):
    v2 = publish_staged(big_world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    before = offered(v2)
    touched = Version.objects.get(pk=v2.pk).updated_at
    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_stage_advance(rollout=rollout, actor=big_world.vendor_user)
    rollout.refresh_from_db()
    assert rollout.stage_index == 1 and rollout.bucket_limit == policies.stage_bucket_limit(60)
    assert offered(v2) == in_stage(big_world, v2, 60) and before <= offered(v2)
    assert Upgrade.objects.filter(to_version=v2).count() + UpgradeRequest.objects.filter(to_version=v2).count() == len(
        offered(v2)
    )  # nobody offered twice by the re-scan
    assert Version.objects.get(pk=v2.pk).updated_at > touched  # the update check's ETag changes
    event = AuditEvent.objects.get(action="rollout.stage_advance", object_id=str(rollout.pk))
    assert event.from_state == "stage 1 (30 %)" and event.to_state == "stage 2 (60 %)"
    assert event.actor_id == big_world.vendor_user.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_stage_advance(rollout=rollout, actor=big_world.vendor_user)
    rollout.refresh_from_db()
    assert offered(v2) == {i.pk for i in big_world.installations}
    assert rollout.state == "completed"  # the last stage offered everybody
    with pytest.raises(TransitionNotAllowed):
        services.rollout_stage_advance(rollout=rollout, actor=big_world.vendor_user)


def test_consent_requests_go_out_as_each_stage_comes(big_world, django_capture_on_commit_callbacks):
    v2 = publish_staged(
        big_world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"]
    )
    first = in_stage(big_world, v2, 30)
    assert set(UpgradeRequest.objects.filter(to_version=v2).values_list("installation_id", flat=True)) == first
    assert len(mail.outbox) == len(first)  # one consent e-mail per admin of a site in the stage
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_stage_advance(rollout=Rollout.objects.get(version=v2), actor=big_world.vendor_user)
    assert len(mail.outbox) == len(in_stage(big_world, v2, 60) - first)


def test_update_check_offers_the_version_only_where_the_stage_came(big_world, django_capture_on_commit_callbacks):
    v2 = publish_staged(big_world, "1.0.1", django_capture_on_commit_callbacks)
    Upgrade.objects.all().delete()  # the check's rule, not what the rollout already scheduled
    Installation.objects.update(version=big_world.v1)
    first = in_stage(big_world, v2, 30)
    for installation in big_world.installations:
        [item] = site_updates(site=installation.site)["items"]
        assert (item["update"] is not None) == (installation.pk in first)
    # Before its rollout exists (the start task queued), the plan's first stage holds.
    Rollout.objects.filter(version=v2).delete()
    for installation in big_world.installations:
        [item] = site_updates(site=installation.site)["items"]
        assert (item["update"] is not None) == (installation.pk in first)


def test_a_resumed_rollout_picks_up_its_stage(big_world, django_capture_on_commit_callbacks):
    v2 = publish_staged(big_world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    services.rollout_halt(rollout=rollout, actor=big_world.vendor_user)
    with pytest.raises(TransitionNotAllowed):
        services.rollout_stage_advance(rollout=rollout, actor=big_world.vendor_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_resume(rollout=rollout, actor=big_world.vendor_user)
    rollout.refresh_from_db()
    assert rollout.stage_index == 0 and rollout.state == "running"
    assert offered(v2) == in_stage(big_world, v2, 30)


def test_the_schedule_advances_a_stage_when_its_time_comes(big_world, django_capture_on_commit_callbacks):
    v2 = publish_staged(big_world, "1.0.1", django_capture_on_commit_callbacks, advance_every_hours=6)
    rollout = Rollout.objects.get(version=v2)
    started = rollout.stage_started_at
    with django_capture_on_commit_callbacks(execute=True):
        assert services.rollout_stages_tick(now=started + timedelta(hours=5, minutes=59))["advanced"] == []
        assert services.rollout_stages_tick(now=started + timedelta(hours=6))["advanced"] == [rollout.pk]
    rollout.refresh_from_db()
    assert rollout.stage_index == 1 and offered(v2) == in_stage(big_world, v2, 60)
    event = AuditEvent.objects.get(action="rollout.stage_advance", object_id=str(rollout.pk))
    assert event.actor_id is None and event.details["scheduled"] is True


def _finish(version, *, failed: int, applied: int, at):
    upgrades = list(Upgrade.objects.filter(to_version=version).order_by("pk"))
    assert len(upgrades) >= failed + applied
    Upgrade.objects.filter(pk__in=[u.pk for u in upgrades[:failed]]).update(state="failed", applied_at=at)
    Upgrade.objects.filter(pk__in=[u.pk for u in upgrades[failed : failed + applied]]).update(
        state="applied", applied_at=at
    )
    Upgrade.objects.filter(pk__in=[u.pk for u in upgrades[failed + applied :]]).update(state="scheduled")


def test_a_stage_halts_by_itself_at_its_failure_threshold(big_world, django_capture_on_commit_callbacks, settings):
    settings.UPGRADE_AUTO_WINDOW = timedelta(hours=24)  # keep the upgrades scheduled; the test finishes them
    v2 = publish_staged(
        big_world, "1.0.1", django_capture_on_commit_callbacks, stages=[60, 100], halt_failure_percent=50
    )
    rollout = Rollout.objects.get(version=v2)
    assert Upgrade.objects.filter(to_version=v2).count() >= 4
    now = timezone.now()
    _finish(v2, failed=1, applied=3, at=now)  # 25 %: below
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.rollout_stages_tick(now=now)["halted"] == []
    _finish(v2, failed=2, applied=2, at=now)  # 50 %: at the threshold
    with django_capture_on_commit_callbacks(execute=True):
        assert services.rollout_stages_tick(now=now)["halted"] == [rollout.pk]
    rollout.refresh_from_db()
    assert rollout.state == "halted" and "2 of 4 upgrades failed" in rollout.halt_reason
    event = AuditEvent.objects.get(action="rollout.halt", object_id=str(rollout.pk))
    assert event.actor_id is None and event.details["failed"] == 2 and event.details["attempted"] == 4
    [message] = mail.outbox
    assert big_world.vendor_user.email in message.to and "halted by itself" in message.subject
    assert "2 of 4 upgrades failed" in message.body
    # Once per halt: another tick (or a redelivered task) sends nothing more.
    from upgrades import tasks

    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_stages_tick(now=now)
        tasks.send_stage_halted_email(rollout.pk)
    assert len(mail.outbox) == 1
    # Resumed, the stage is judged anew from the halt: the old failures no longer count.
    with django_capture_on_commit_callbacks(execute=True):
        services.rollout_resume(rollout=rollout, actor=big_world.vendor_user)
        assert services.rollout_stages_tick(now=timezone.now())["halted"] == []


def test_only_the_vendor_or_staff_advances(big_world, django_capture_on_commit_callbacks):
    v2 = publish_staged(big_world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    stranger = MembershipFactory(role="owner").user
    with pytest.raises((NotFound, ApplicationError)):
        services.rollout_stage_advance(rollout=rollout, actor=stranger)
    rollout.refresh_from_db()
    assert rollout.stage_index == 0


def test_an_unstaged_rollout_does_not_advance(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.0.1")
    rollout = Rollout.objects.get(version=v2)
    assert rollout.stages == [] and rollout.bucket_limit == policies.STAGE_BUCKETS
    with pytest.raises(ApplicationError) as exc:
        services.rollout_stage_advance(rollout=rollout, actor=world.vendor_user)
    assert "not in stages" in exc.value.message


def test_a_bad_plan_publishes_nothing(big_world):
    version = VersionFactory(listing=big_world.listing, number="1.0.1", state="approved")
    with pytest.raises(ApplicationError) as exc:
        version_publish_in_stages(version=version, actor=big_world.vendor_user, stages=["50", "20", "100"])
    assert exc.value.field == "stages"
    assert Version.objects.get(pk=version.pk).state == "approved"
