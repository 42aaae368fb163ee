"""Rollouts: who gets what when a version is published (automatic upgrades, consent
requests and their e-mails, superseding, chunks, audiences, halting)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from core.errors import NotFound, TransitionNotAllowed
from marketplace.selectors import scope_catalogue
from tests.factories import HostProductFactory, SiteAdminFactory, SiteFactory, UserFactory, VersionFactory
from tests.upgrades.world import make_world, publish
from upgrades import services
from upgrades.models import Installation, Rollout, SentEmail, Upgrade, UpgradeRequest
from versions.models import Version

pytestmark = pytest.mark.django_db


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


def test_rollout_processes_in_chunks(world, django_capture_on_commit_callbacks, settings):
    settings.ROLLOUT_CHUNK_SIZE = 2
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    assert rollout.chunks_processed == 2 and rollout.state == "completed"
    assert Installation.objects.filter(version=v2).count() == 3


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


def test_ocp_minor_applies_and_major_waits(db, catalogue, django_capture_on_commit_callbacks):
    """Without hook URLs nothing is called and nothing is recorded as called (tests/upgrades/services/
    test_callbacks.py calls real hooks)."""
    world = make_world(scheme="ocp")
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    hooks = [u.hooks for u in Upgrade.objects.filter(to_version=v2)]
    assert hooks == [[]] * 3
    assert Installation.objects.filter(version=v2).count() == 3
    v3 = publish(world, "2.0.0", django_capture_on_commit_callbacks)
    request = UpgradeRequest.objects.get(installation=world.installations[0], to_version=v3)
    assert request.reasons[0]["code"] == "major_upgrade"
    assert Installation.objects.filter(version=v2).count() == 3
    # The admin's manual Upgrade applies it.
    admin = world.admins[0].user
    upgrade = services.installation_upgrade(
        site_id=world.sites[0].pk, installation_id=world.installations[0].pk, actor=admin
    )
    assert upgrade.to_version == v3 and upgrade.approved_by == admin and upgrade.state == "applied"
    assert upgrade.hooks == []
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


def test_one_email_per_admin_per_request_with_several_admins(db, catalogue, django_capture_on_commit_callbacks):
    world = make_world(sites=1, admins_per_site=3)
    SiteAdminFactory(site=world.sites[0], user=None, email="ops@customer.example.com")
    publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert len(recipients) == 4 and len(set(recipients)) == 4
    links = {line for m in mail.outbox for line in m.body.splitlines() if "/upgrades/consent/" in line}
    assert len(links) == 4  # each recipient gets their own link


@pytest.mark.parametrize(("scheme", "number"), [("connect", "1.1.0"), ("forge", "2.0.0")])
def test_connect_and_forge_versions_that_only_remove_a_scope_ask_every_site(
    db, catalogue, django_capture_on_commit_callbacks, scheme, number
):
    # The source documents' classes: the version made because scopes changed (removed too) needs approval.
    world = make_world(scheme=scheme, scopes=("read:jira-work", "write:jira-work"))
    v2 = publish(world, number, django_capture_on_commit_callbacks, scopes=["read:jira-work"])
    requests = UpgradeRequest.objects.filter(to_version=v2)
    assert requests.count() == 3 and not Upgrade.objects.filter(to_version=v2).exists()
    assert requests.first().reasons == [
        {
            "code": "scope_removed",
            "text": "scope removed: write:jira-work",
            "scope": "write:jira-work",
            "sensitivity": "write",
        }
    ]
    assert "scope removed: write:jira-work" in mail.outbox[0].body
    assert set(Installation.objects.values_list("version__number", flat=True)) == {"1.0.0"}


def test_manual_version_that_only_removes_a_scope_is_applied_without_asking(
    db, catalogue, django_capture_on_commit_callbacks
):
    world = make_world(scheme="manual", scopes=("read:jira-work", "write:jira-work"))
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks, scopes=["read:jira-work"])
    assert not UpgradeRequest.objects.filter(to_version=v2).exists()
    assert Installation.objects.filter(version=v2).count() == 3


def _stalled_rollout(world, settings):
    """A rollout that did its first chunk, whose next-chunk message was then lost."""
    settings.ROLLOUT_CHUNK_SIZE = 1
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")
    v2 = VersionFactory(listing=world.listing, number="1.0.1", scopes=list(world.v1.scopes), state="published")
    rollout = Rollout.objects.create(version=v2, listing=world.listing, progressed_at=timezone.now())
    assert services.rollout_process_chunk(rollout_id=rollout.pk) == 1  # its on-commit enqueue never runs here
    rollout.refresh_from_db()
    return rollout


def test_beat_restarts_a_rollout_whose_next_message_was_lost(world, settings, django_capture_on_commit_callbacks):
    rollout = _stalled_rollout(world, settings)
    assert rollout.chunks_processed == 1 and rollout.state == "running"
    soon = rollout.progressed_at + settings.ROLLOUT_STALL_AFTER / 2
    assert services.rollouts_resume_stalled(now=soon) == []  # still moving, as far as anyone can tell
    later = rollout.progressed_at + settings.ROLLOUT_STALL_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.rollouts_resume_stalled(now=later) == [rollout.pk]
    rollout.refresh_from_db()
    assert rollout.state == "completed" and rollout.targeted == 3
    assert Upgrade.objects.filter(rollout=rollout).count() == 3


def test_a_duplicate_chunk_message_finds_the_cursor_moved_and_does_nothing(world, settings):
    rollout = _stalled_rollout(world, settings)
    cursor = rollout.cursor
    assert services.rollout_process_chunk(rollout_id=rollout.pk, expected_cursor=0) == 0  # sent before chunk 1
    rollout.refresh_from_db()
    assert (rollout.cursor, rollout.chunks_processed) == (cursor, 1)
    assert services.rollout_process_chunk(rollout_id=rollout.pk, expected_cursor=cursor) == 1
    assert Upgrade.objects.filter(rollout=rollout).count() == 2


def test_halted_and_finished_rollouts_are_not_restarted(world, settings):
    rollout = _stalled_rollout(world, settings)
    services.rollout_halt(rollout=rollout, actor=world.vendor_user)
    later = timezone.now() + settings.ROLLOUT_STALL_AFTER + timedelta(seconds=1)
    assert services.rollouts_resume_stalled(now=later) == []


def test_beat_starts_the_rollout_of_a_version_whose_start_message_was_lost(
    world, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        v2 = world.publish("1.0.1")  # the start task's message is lost with the callbacks
    assert not Rollout.objects.filter(version=v2).exists()
    published = Version.objects.get(pk=v2.pk).published_at
    assert services.rollouts_start_missing(now=published + settings.ROLLOUT_STALL_AFTER / 2) == []
    later = published + settings.ROLLOUT_STALL_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.rollouts_start_missing(now=later) == [v2.pk]
    assert Rollout.objects.get(version=v2).state == "completed"
    assert Upgrade.objects.filter(to_version=v2, state="applied").count() == 3
    # Long-published versions without a rollout (data older than rollouts) are left alone.
    assert services.rollouts_start_missing(now=published + settings.ROLLOUT_START_LOOKBACK * 2) == []
