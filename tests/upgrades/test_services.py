"""Rollouts, applying, superseding, consent decisions: behaviour through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from marketplace.selectors import scope_catalogue
from tests.factories import HostProductFactory, SiteAdminFactory, SiteFactory, UserFactory, VersionFactory
from tests.upgrades.conftest import make_world
from upgrades import services
from upgrades.models import (
    Installation,
    Rollout,
    SentEmail,
    Upgrade,
    UpgradeRequest,
)
from versions.models import Version

pytestmark = pytest.mark.django_db


def publish(world, number, capture, **kwargs):
    with capture(execute=True):
        version = world.publish(number, **kwargs)
    return version


def test_publishing_without_new_scopes_upgrades_every_site_by_itself(world, django_capture_on_commit_callbacks):
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    assert rollout.state == "completed" and rollout.targeted == 3
    assert set(Installation.objects.values_list("version__number", flat=True)) == {"1.0.1"}
    assert Upgrade.objects.filter(to_version=v2, state="applied").count() == 3
    assert not UpgradeRequest.objects.exists()
    # "upgrade applied": one e-mail per admin per upgrade
    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.email for a in world.admins)
    assert all("was upgraded to 1.0.1" in m.subject for m in mail.outbox)


def test_new_scope_asks_for_consent_and_keeps_the_old_version(world, django_capture_on_commit_callbacks):
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    requests = UpgradeRequest.objects.filter(to_version=v2)
    assert requests.count() == 3 and {r.state for r in requests} == {"pending"}
    assert requests.first().reasons == [
        {
            "code": "scope_added",
            "text": "new scope write:jira-work (write)",
            "scope": "write:jira-work",
            "sensitivity": "write",
        }
    ]
    assert set(Installation.objects.values_list("version__number", "state")) == {("1.0.0", "pending_consent")}
    assert not Upgrade.objects.exists()
    assert len(mail.outbox) == 3
    message = mail.outbox[0]
    assert world.listing.name in message.subject and "1.1.0" in message.subject
    assert "1.0.0" in message.body and "new scope write:jira-work (write)" in message.body
    assert f"{django_settings.PORTAL_BASE_URL}/upgrades/consent/" in message.body
    html = message.alternatives[0][0]
    assert (
        "new scope write:jira-work (write)" in html
        and f'href="{django_settings.PORTAL_BASE_URL}/upgrades/consent/' in html
    )


def test_rollout_and_emails_are_idempotent(world, django_capture_on_commit_callbacks):
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "admin"])
    rollout = Rollout.objects.get(version=v2)
    before = (UpgradeRequest.objects.count(), Upgrade.objects.count(), len(mail.outbox))
    # Run everything again, as a redelivered task would.
    from upgrades import tasks

    with django_capture_on_commit_callbacks(execute=True):
        assert services.rollout_start(version_id=v2.pk) == rollout
        Rollout.objects.filter(pk=rollout.pk).update(state="running", cursor=0)
        assert services.rollout_process_chunk(rollout_id=rollout.pk) == 0
        tasks.send_upgrade_request_emails([r.pk for r in UpgradeRequest.objects.all()])
    assert (UpgradeRequest.objects.count(), Upgrade.objects.count(), len(mail.outbox)) == before
    assert SentEmail.objects.filter(kind="consent").count() == 3


def test_applying_twice_changes_nothing_the_second_time(world):
    v2 = VersionFactory(listing=world.listing, number="1.0.1", scopes=["read:jira-work"], state="superseded")
    installation = world.installations[0]
    upgrade = Upgrade.objects.create(
        installation=installation, from_version=world.v1, to_version=v2, due_at=timezone.now()
    )
    first = services.upgrade_apply(upgrade_id=upgrade.pk)
    applied_at = first.applied_at
    assert first.state == "applied"
    installation.refresh_from_db()
    assert installation.version == v2 and installation.granted_scopes == ["read:jira-work"]
    Installation.objects.filter(pk=installation.pk).update(granted_scopes=["changed"])
    second = services.upgrade_apply(upgrade_id=upgrade.pk)
    assert second.applied_at == applied_at
    installation.refresh_from_db()
    assert installation.granted_scopes == ["changed"]  # untouched by the second run
    assert services.upgrades_apply_due() == 0


def test_newer_version_supersedes_open_requests_and_scheduled_upgrades(
    world, django_capture_on_commit_callbacks, settings
):
    settings.UPGRADE_AUTO_WINDOW = timedelta(hours=24)  # keep the automatic upgrades scheduled
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    old_requests = list(UpgradeRequest.objects.filter(to_version=v2))
    v3 = publish(
        world, "1.2.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work", "admin"]
    )
    assert {r.state for r in UpgradeRequest.objects.filter(pk__in=[r.pk for r in old_requests])} == {"superseded"}
    new = UpgradeRequest.objects.filter(to_version=v3)
    assert new.count() == 3 and {r.state for r in new} == {"pending"}
    assert [x["code"] for x in new.first().reasons] == ["scope_added", "scope_added"]  # vs what was granted
    assert Rollout.objects.get(version=v2).state == "superseded"
    # A later version that needs no new consent replaces the pending requests with scheduled upgrades.
    Installation.objects.update(granted_scopes=["admin", "read:jira-work", "write:jira-work"])
    v4 = publish(
        world, "1.2.1", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work", "admin"]
    )
    assert {r.state for r in UpgradeRequest.objects.filter(to_version=v3)} == {"superseded"}
    assert Upgrade.objects.filter(to_version=v4, state="scheduled").count() == 3
    assert set(Installation.objects.values_list("state", flat=True)) == {"active"}
    v5 = publish(
        world, "1.2.2", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work", "admin"]
    )
    assert Upgrade.objects.filter(to_version=v4, state="superseded").count() == 3
    assert Upgrade.objects.filter(to_version=v5, state="scheduled").count() == 3


def test_database_allows_one_open_request_and_one_scheduled_upgrade_per_installation(world):
    v2 = VersionFactory(listing=world.listing, number="1.1.0", state="superseded")
    installation = world.installations[0]
    UpgradeRequest.objects.create(installation=installation, from_version=world.v1, to_version=v2)
    with pytest.raises(IntegrityError), transaction.atomic():
        UpgradeRequest.objects.create(installation=installation, from_version=world.v1, to_version=v2)
    Upgrade.objects.create(installation=installation, from_version=world.v1, to_version=v2, due_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Upgrade.objects.create(installation=installation, from_version=world.v1, to_version=v2, due_at=timezone.now())


def test_rollout_chunk_query_count_does_not_grow(db, catalogue, settings, django_assert_max_num_queries):
    settings.ROLLOUT_CHUNK_SIZE = 1000
    counts = {}
    for sites in (2, 40):
        world = make_world(sites=sites)
        Version.objects.filter(pk=world.v1.pk).update(state="superseded")
        v2 = VersionFactory(
            listing=world.listing, number="1.1.0", scopes=["read:jira-work", "write:jira-work"], state="published"
        )
        half = VersionFactory(listing=world.listing, number="1.0.1", scopes=["read:jira-work"], state="superseded")
        Installation.objects.filter(pk__in=[i.pk for i in world.installations[::2]]).update(
            granted_scopes=["read:jira-work", "write:jira-work"], version=half
        )
        rollout = Rollout.objects.create(version=v2, listing=world.listing)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        scope_catalogue()  # cached between requests; warm it so both runs are alike
        with CaptureQueriesContext(connection) as ctx:
            assert services.rollout_process_chunk(rollout_id=rollout.pk) == sites
        counts[sites] = len(ctx.captured_queries)
        assert Upgrade.objects.filter(to_version=v2).count() == sites // 2
        assert UpgradeRequest.objects.filter(to_version=v2).count() == sites - sites // 2
    assert counts[2] == counts[40]
    with django_assert_max_num_queries(12):
        services.rollout_process_chunk(rollout_id=rollout.pk)


def test_apply_due_query_count_does_not_grow(db, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for sites in (2, 30):
        world = make_world(sites=sites)
        v2 = VersionFactory(listing=world.listing, number="1.0.1", state="superseded")
        Upgrade.objects.bulk_create(
            Upgrade(installation=i, from_version=world.v1, to_version=v2, due_at=timezone.now())
            for i in world.installations
        )
        with CaptureQueriesContext(connection) as ctx:
            assert services.upgrades_apply_due() == sites
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_rollout_processes_in_chunks(world, django_capture_on_commit_callbacks, settings):
    settings.ROLLOUT_CHUNK_SIZE = 2
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    assert rollout.chunks_processed == 2 and rollout.state == "completed"
    assert Installation.objects.filter(version=v2).count() == 3


def test_maintenance_window_delays_the_upgrade(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    site = world.sites[0]
    start = (now - timedelta(minutes=30)).astimezone(timezone.get_fixed_timezone(0))
    end = now + timedelta(hours=1)
    site.maintenance_windows = [
        {"weekday": start.weekday(), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    ]
    site.save()
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    waiting = Upgrade.objects.get(installation__site=site, to_version=v2)
    assert waiting.state == "scheduled"
    assert end - timedelta(minutes=2) < waiting.due_at <= end
    assert Upgrade.objects.filter(to_version=v2, state="applied").count() == 2
    assert services.upgrades_apply_due(now=end + timedelta(minutes=1)) == 1
    waiting.refresh_from_db()
    assert waiting.state == "applied"


def test_audience_private_listing_and_host_compatibility(world, django_capture_on_commit_callbacks):
    other_product = HostProductFactory(key="confluence", name="Confluence")
    confluence_site = SiteFactory(host_product=other_product)
    services.installation_create(site=confluence_site, listing=world.listing, version=world.v1)
    old_jira = world.sites[0]
    old_jira.host_version = "8.0.0"
    old_jira.save()
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks, compatibility=[{"product": "jira", "min": "9.0"}])
    upgraded = set(Installation.objects.filter(version=v2).values_list("site_id", flat=True))
    assert upgraded == {world.sites[1].pk, world.sites[2].pk}
    world.listing.visibility = "private"
    world.listing.save()
    world.listing.allowed_sites.add(world.sites[1])
    v3 = publish(world, "1.0.2", django_capture_on_commit_callbacks)
    assert set(Installation.objects.filter(version=v3).values_list("site_id", flat=True)) == {world.sites[1].pk}


def test_ocp_minor_applies_with_lifecycle_hooks_and_major_waits(db, catalogue, django_capture_on_commit_callbacks):
    world = make_world(scheme="ocp")
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    hooks = [[h["hook"] for h in u.hooks] for u in Upgrade.objects.filter(to_version=v2)]
    assert hooks == [["onUpgrade", "onFinalizeUpgrade"]] * 3
    assert Installation.objects.filter(version=v2).count() == 3
    v3 = publish(world, "2.0.0", django_capture_on_commit_callbacks)
    request = UpgradeRequest.objects.get(installation=world.installations[0], to_version=v3)
    assert request.reasons[0]["code"] == "major_upgrade"
    assert Installation.objects.filter(version=v2).count() == 3
    # The admin's manual Upgrade applies it (and records the hooks).
    admin = world.admins[0].user
    upgrade = services.installation_upgrade(
        site_id=world.sites[0].pk, installation_id=world.installations[0].pk, actor=admin
    )
    assert upgrade.to_version == v3 and upgrade.approved_by == admin
    assert [h["hook"] for h in upgrade.hooks] == ["onUpgrade", "onFinalizeUpgrade"]
    request.refresh_from_db()
    assert request.state == "approved"


def test_ocp_dev_version_reaches_only_the_vendor_sandbox(db, catalogue, django_capture_on_commit_callbacks):
    world = make_world(scheme="ocp")
    sandbox = world.sites[0]
    sandbox.sandbox_vendor = world.listing.vendor
    sandbox.save()
    dev = publish(world, "1.1.0-dev.1", django_capture_on_commit_callbacks, channel="dev")
    assert list(Installation.objects.filter(version=dev).values_list("site_id", flat=True)) == [sandbox.pk]


def test_auto_update_off_turns_the_upgrade_into_a_request(world, django_capture_on_commit_callbacks):
    site = world.sites[0]
    site.auto_update = False
    site.save()
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    request = UpgradeRequest.objects.get(installation__site=site)
    assert request.to_version == v2 and request.reasons[0]["code"] == "auto_update_off"


def test_approve_applies_and_records_the_approver(world, django_capture_on_commit_callbacks):
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    admin = world.admins[0].user
    with django_capture_on_commit_callbacks(execute=True):
        upgrade = services.upgrade_request_approve(request_id=request.pk, actor=admin)
    request.refresh_from_db()
    installation = Installation.objects.get(pk=world.installations[0].pk)
    assert request.state == "approved" and request.decided_by == admin and request.decided_by_email == admin.email
    assert upgrade.state == "applied" and upgrade.approved_by == admin and upgrade.request == request
    assert installation.version == v2 and installation.state == "active"
    assert installation.granted_scopes == ["read:jira-work", "write:jira-work"]
    with pytest.raises(TransitionNotAllowed, match=f"already approved by {admin.username}"):
        services.upgrade_request_approve(request_id=request.pk, actor=admin)
    assert Upgrade.objects.filter(installation=installation).count() == 1


def test_reject_keeps_the_old_version(world, django_capture_on_commit_callbacks):
    publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    services.upgrade_request_reject(request_id=request.pk, actor=world.admins[0].user)
    installation = Installation.objects.get(pk=world.installations[0].pk)
    assert installation.version == world.v1 and installation.state == "active"
    request.refresh_from_db()
    assert request.state == "rejected"


def test_only_the_sites_admins_may_decide(world, django_capture_on_commit_callbacks):
    publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    other_sites_admin = world.admins[1].user
    with pytest.raises(NotFound):
        services.upgrade_request_approve(request_id=request.pk, actor=other_sites_admin)
    with pytest.raises(NotFound):
        services.upgrade_request_reject(request_id=request.pk, actor=UserFactory())
    request.refresh_from_db()
    assert request.state == "pending"


def test_halted_rollout_applies_nothing_until_resumed(world, django_capture_on_commit_callbacks, settings):
    settings.UPGRADE_AUTO_WINDOW = timedelta(hours=1)
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    Rollout.objects.filter(pk=rollout.pk).update(state="running")
    rollout.refresh_from_db()
    services.rollout_halt(rollout=rollout, actor=world.vendor_user)
    later = timezone.now() + timedelta(hours=2)
    assert services.upgrades_apply_due(now=later) == 0
    with pytest.raises(TransitionNotAllowed, match="only a running rollout can be halted"):
        services.rollout_halt(rollout=rollout, actor=world.vendor_user)
    with pytest.raises(NotFound):
        services.rollout_resume(rollout=rollout, actor=UserFactory())
    services.rollout_resume(rollout=rollout, actor=world.vendor_user)
    assert services.upgrades_apply_due(now=later) == 3


def test_reminder_once_and_expiry(world, django_capture_on_commit_callbacks, settings):
    publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    mail.outbox.clear()
    later = timezone.now() + settings.UPGRADE_REMINDER_AFTER + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(services.upgrade_requests_due_reminder(now=later)) == 3
        assert services.upgrade_requests_due_reminder(now=later) == []
    assert len(mail.outbox) == 3 and all(m.subject.startswith("Reminder:") for m in mail.outbox)
    assert services.upgrade_requests_expire(now=later) == 0
    assert (
        services.upgrade_requests_expire(now=timezone.now() + settings.UPGRADE_LINK_MAX_AGE + timedelta(minutes=1)) == 3
    )
    assert set(UpgradeRequest.objects.values_list("state", flat=True)) == {"expired"}
    assert set(Installation.objects.values_list("state", "version__number")) == {("active", "1.0.0")}


def test_one_email_per_admin_per_request_with_several_admins(db, catalogue, django_capture_on_commit_callbacks):
    world = make_world(sites=1, admins_per_site=3)
    SiteAdminFactory(site=world.sites[0], user=None, email="ops@customer.example.com")
    publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert len(recipients) == 4 and len(set(recipients)) == 4
    links = {line for m in mail.outbox for line in m.body.splitlines() if "/upgrades/consent/" in line}
    assert len(links) == 4  # each recipient gets their own link


def test_installation_create_refuses_a_foreign_or_unreleased_version(world):
    other = VersionFactory(number="3.0.0", state="published")
    with pytest.raises(ApplicationError, match="is not a version of"):
        services.installation_create(site=world.sites[0], listing=world.listing, version=other)
    draft = VersionFactory(listing=world.listing, number="3.0.0", state="draft")
    with pytest.raises(ApplicationError, match="only published versions"):
        services.installation_create(site=SiteFactory(), listing=world.listing, version=draft)


def test_site_validates_its_maintenance_windows(world):
    from django.core.exceptions import ValidationError

    site = world.sites[0]
    site.maintenance_windows = [{"weekday": 9, "start": "01:00", "end": "02:00"}]
    with pytest.raises(ValidationError) as exc:
        site.full_clean()
    assert "weekday must be 0 (Monday) to 6 (Sunday)" in str(exc.value.message_dict["maintenance_windows"])
    with pytest.raises(ApplicationError):
        services.site_set_maintenance_windows(site=site, actor=world.admins[0].user, windows_="sunday")
    services.site_set_maintenance_windows(
        site=site, actor=world.admins[0].user, windows_=[{"weekday": 6, "start": "01:00", "end": "05:00"}]
    )
    site.refresh_from_db()
    assert site.maintenance_windows == [{"weekday": 6, "start": "01:00", "end": "05:00"}]


def test_approving_while_the_vendor_halted_the_rollout_is_refused(world, django_capture_on_commit_callbacks):
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    Rollout.objects.filter(version=v2).update(state="halted")
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    with pytest.raises(TransitionNotAllowed, match="paused the rollout"):
        services.upgrade_request_approve(request_id=request.pk, actor=world.admins[0].user)
    request.refresh_from_db()
    assert request.state == "pending"
    assert Installation.objects.get(pk=world.installations[0].pk).version == world.v1


def test_upgrade_of_a_deactivated_installation_fails_with_the_reason(
    world, django_capture_on_commit_callbacks, settings
):
    from upgrades.selectors import rollout_progress

    settings.UPGRADE_AUTO_WINDOW = timedelta(hours=1)
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    Installation.objects.filter(pk=world.installations[0].pk).update(state="deactivated")
    assert services.upgrades_apply_due(now=timezone.now() + timedelta(hours=2)) == 2
    failed = Upgrade.objects.get(installation=world.installations[0])
    assert failed.state == "failed" and "deactivated" in failed.outcome
    assert Installation.objects.get(pk=world.installations[0].pk).version == world.v1
    progress = rollout_progress(Rollout.objects.get(version=v2))
    assert (progress["applied"], progress["failed"], progress["total"]) == (2, 1, 3)
