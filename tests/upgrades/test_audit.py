"""Every state change of sites, installations, rollouts, upgrades, requests, product migrations and
beta links writes its audit row (core.AuditEvent), set-based work with a bounded number of queries;
the site page shows its own site's history only; the admins can't change product or version."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEvent
from marketplace.selectors import scope_catalogue
from tests.factories import HostProductFactory, ListingFactory, UserFactory, VersionFactory
from tests.upgrades.beta_world import make_beta_world
from tests.upgrades.migration_world import BITBUCKET, STASH, app, install, stash_site
from tests.upgrades.world import make_world
from upgrades import services
from upgrades.emails import consent_token
from upgrades.models import ConsentLink, Installation, MigrationOffer, Rollout, Site, Upgrade, UpgradeRequest
from upgrades.share_links import beta_link_token
from versions.models import Version

pytestmark = pytest.mark.django_db


def events(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


def publish(world, number, capture, **kwargs):
    with capture(execute=True):
        return world.publish(number, **kwargs)


def ask_consent(world, capture):
    """1.1.0 adds a scope: every installation gets a pending request."""
    return publish(world, "1.1.0", capture, scopes=["read:jira-work", "write:jira-work"])


# --- rollouts ------------------------------------------------------------------------------------


def _chunk_world(sites):
    """`sites` installations; 1.1.0 (new scope) live: half of them already granted it (automatic)."""
    world = make_world(sites=sites)
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")
    v2 = VersionFactory(
        listing=world.listing, number="1.1.0", scopes=["read:jira-work", "write:jira-work"], state="published"
    )
    half = VersionFactory(listing=world.listing, number="1.0.1", scopes=["read:jira-work"], state="superseded")
    Installation.objects.filter(pk__in=[i.pk for i in world.installations[::2]]).update(
        granted_scopes=["read:jira-work", "write:jira-work"], version=half
    )
    return world, Rollout.objects.create(version=v2, listing=world.listing)


def test_a_rollout_chunk_writes_its_rows_in_bulk_with_queries_that_do_not_grow(
    catalogue, settings, django_assert_max_num_queries
):
    settings.ROLLOUT_CHUNK_SIZE = 1000
    scope_catalogue()  # cached between requests; warm it so both runs are alike
    counts = {}
    for sites in (2, 40):
        _, rollout = _chunk_world(sites)
        AuditEvent.objects.all().delete()
        # 14, and 3 for the consent e-mails queued in the chunk's transaction (admins, links, outbox rows);
        # on PostgreSQL the rows are streamed (COPY) and the upgrades' and requests' ids drawn first (+2).
        most = 17 + 2 * (connection.vendor == "postgresql")
        with django_assert_max_num_queries(most), CaptureQueriesContext(connection) as ctx:
            assert services.rollout_process_chunk(rollout_id=rollout.pk) == sites
        counts[sites] = len(ctx.captured_queries)
        audit_writes = ('INSERT INTO "core_auditevent"', 'COPY "core_auditevent"')
        inserts = [q for q in ctx.captured_queries if q["sql"].startswith(audit_writes)]
        assert len(inserts) == 1
        upgrades = Upgrade.objects.filter(rollout=rollout)
        requests = UpgradeRequest.objects.filter(rollout=rollout)
        assert len(events("upgrade.schedule")) == upgrades.count() == sites // 2
        assert len(events("upgrade_request.create")) == requests.count() == sites - sites // 2
        flagged = events("installation.await_consent")
        assert sorted(e.object_id for e in flagged) == sorted(r.installation_id for r in requests)
        assert {(e.from_state, e.to_state, e.actor_label) for e in flagged} == {("active", "pending_consent", "system")}
        assert {e.object_id for e in events("upgrade.schedule")} == {u.pk for u in upgrades}
    assert counts[2] == counts[40]


def test_halt_and_resume_each_write_one_row_and_resuming_keeps_who_halted(world, django_capture_on_commit_callbacks):
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    rollout = Rollout.objects.get(version=v2)
    Rollout.objects.filter(pk=rollout.pk).update(state="running")
    halted = services.rollout_halt(rollout=rollout, actor=world.vendor_user)
    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks():
        services.rollout_resume(rollout=rollout, actor=staff)
    rollout.refresh_from_db()
    assert rollout.state == "running"
    assert rollout.halted_by == world.vendor_user and rollout.halted_at == halted.halted_at
    (halt,) = events("rollout.halt", object_id=rollout.pk)
    (resume,) = events("rollout.resume", object_id=rollout.pk)
    assert (halt.actor, halt.from_state, halt.to_state) == (world.vendor_user, "running", "halted")
    assert (resume.actor, resume.from_state, resume.to_state) == (staff, "halted", "running")
    assert resume.details["halted_by"] == world.vendor_user.get_username()
    assert resume.details["halted_at"] == halted.halted_at.isoformat()


def test_a_rollout_starts_completes_and_supersedes_the_older_one_with_a_row_each(
    world, django_capture_on_commit_callbacks
):
    v2 = publish(world, "1.0.1", django_capture_on_commit_callbacks)
    first = Rollout.objects.get(version=v2)
    assert [(e.from_state, e.to_state) for e in events("rollout.start", object_id=first.pk)] == [("", "running")]
    assert [(e.from_state, e.to_state) for e in events("rollout.complete", object_id=first.pk)] == [
        ("running", "completed")
    ]
    v3 = publish(world, "1.0.2", django_capture_on_commit_callbacks)
    (superseded,) = events("rollout.supersede", object_id=first.pk)
    assert (superseded.from_state, superseded.to_state) == ("completed", "superseded")
    assert f"superseded by {v3.number}" in superseded.comment


# --- upgrades, requests, installations -------------------------------------------------------------


def test_applying_due_upgrades_writes_rows_in_bulk_with_queries_that_do_not_grow(catalogue):
    counts = []
    for sites in (2, 30):
        world = make_world(sites=sites)
        v2 = VersionFactory(listing=world.listing, number="1.0.1", state="superseded")
        Upgrade.objects.bulk_create(
            Upgrade(installation=i, from_version=world.v1, to_version=v2, due_at=timezone.now())
            for i in world.installations
        )
        AuditEvent.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            assert services.upgrades_apply_due() == sites
        counts.append(len(ctx.captured_queries))
        applied = events("upgrade.apply")
        moved = events("installation.upgrade")
        assert len(applied) == len(moved) == sites
        assert {(e.from_state, e.to_state, e.actor_label) for e in applied} == {("scheduled", "applied", "system")}
        assert {e.object_id for e in moved} == {i.pk for i in world.installations}
        assert {e.details["to_version"] for e in moved} == {"1.0.1"}
    assert counts[0] == counts[1]


def test_approving_a_request_writes_one_row_per_object_it_moves(world, django_capture_on_commit_callbacks):
    ask_consent(world, django_capture_on_commit_callbacks)
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    admin = world.admins[0].user
    AuditEvent.objects.all().delete()
    with django_capture_on_commit_callbacks():
        upgrade = services.upgrade_request_approve(request_id=request.pk, actor=admin)
    (approve,) = events("upgrade_request.approve")
    assert (approve.object_id, approve.actor, approve.from_state, approve.to_state) == (
        request.pk,
        admin,
        "pending",
        "approved",
    )
    (scheduled,) = events("upgrade.schedule")
    (applied,) = events("upgrade.apply")
    assert scheduled.object_id == applied.object_id == upgrade.pk and applied.actor == admin
    (moved,) = events("installation.upgrade")
    assert (moved.object_id, moved.from_state, moved.to_state) == (request.installation_id, "pending_consent", "active")
    assert AuditEvent.objects.count() == 4


def test_approving_through_an_e_mailed_link_names_the_recipient(world, django_capture_on_commit_callbacks):
    ask_consent(world, django_capture_on_commit_callbacks)
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    admin_email = world.admins[0].email
    link = ConsentLink.objects.get_or_create(request=request, email=admin_email, defaults={"nonce": uuid.uuid4()})[0]
    with django_capture_on_commit_callbacks():
        services.consent_link_use(request_id=request.pk, token=consent_token(link), action="approve")
    (approve,) = events("upgrade_request.approve")
    # The link decides as its recipient: the site admin's own account, with the address it went to.
    assert approve.actor == world.admins[0].user and approve.details["email"] == admin_email


def test_rejecting_writes_the_request_row_and_the_installation_row(world, django_capture_on_commit_callbacks):
    ask_consent(world, django_capture_on_commit_callbacks)
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    admin = world.admins[0].user
    services.upgrade_request_reject(request_id=request.pk, actor=admin)
    (reject,) = events("upgrade_request.reject")
    assert (reject.actor, reject.from_state, reject.to_state) == (admin, "pending", "rejected")
    (active,) = events("installation.activate", object_id=request.installation_id)
    assert (active.actor, active.from_state, active.to_state) == (admin, "pending_consent", "active")


def test_expiring_requests_writes_their_rows_in_bulk(world, django_capture_on_commit_callbacks, settings):
    ask_consent(world, django_capture_on_commit_callbacks)
    later = timezone.now() + settings.UPGRADE_LINK_MAX_AGE + timedelta(minutes=1)
    assert services.upgrade_requests_expire(now=later) == 3
    expired = events("upgrade_request.expire")
    assert len(expired) == 3 and {(e.from_state, e.to_state) for e in expired} == {("pending", "expired")}
    assert {e.object_id for e in events("installation.activate")} == {i.pk for i in world.installations}
    assert services.upgrade_requests_expire(now=later) == 0
    assert len(events("upgrade_request.expire")) == 3


def test_a_manual_upgrade_supersedes_open_work_with_rows(world, django_capture_on_commit_callbacks):
    v2 = ask_consent(world, django_capture_on_commit_callbacks)
    Version.objects.filter(pk=v2.pk).update(state="superseded")
    v3 = VersionFactory(listing=world.listing, number="1.2.0", scopes=["read:jira-work"], state="published")
    installation = world.installations[0]
    admin = world.admins[0].user
    with django_capture_on_commit_callbacks():
        services.installation_upgrade(site_id=installation.site_id, installation_id=installation.pk, actor=admin)
    (superseded,) = events("upgrade_request.supersede")
    assert (superseded.actor, superseded.from_state, superseded.to_state) == (admin, "pending", "superseded")
    (moved,) = events("installation.upgrade", object_id=installation.pk)
    assert moved.actor == admin and moved.details["to_version"] == v3.number


# --- sites and product migrations ----------------------------------------------------------------


def test_site_settings_write_one_row_with_the_changes(world):
    site, admin = world.sites[0], world.admins[0].user
    services.site_update_settings(
        site=site,
        actor=admin,
        auto_update=False,
        maintenance_windows=[{"weekday": 6, "start": "01:00", "end": "05:00"}],
    )
    (changed,) = events("site.update_settings")
    assert (changed.object_id, changed.actor) == (site.pk, admin)
    assert (changed.from_state, changed.to_state) == ("auto_update_on", "auto_update_off")
    assert changed.details["changes"]["auto_update"] == {"from": True, "to": False}
    services.site_update_settings(
        site=site, actor=admin, auto_update=False, maintenance_windows=site.maintenance_windows
    )
    assert len(events("site.update_settings")) == 1  # nothing changed: no row


def test_a_product_move_writes_the_site_row_and_one_per_app_and_offer(products, catalogue):
    site, admin = stash_site(products)
    installations = [install(site, *app(key=f"app-{n}")[:2]) for n in range(3)]
    AuditEvent.objects.all().delete()
    migration = services.site_migrate_product(
        site=site, host_product="bitbucket-server", host_version="4.0", actor=admin
    )
    (moved,) = events("site.move_product")
    assert (moved.object_id, moved.actor, moved.from_state, moved.to_state) == (
        site.pk,
        admin,
        "stash 3.10.2",
        "bitbucket-server 4.0",
    )
    deactivated = events("installation.deactivate")
    assert {e.object_id for e in deactivated} == {i.pk for i in installations}
    assert {(e.from_state, e.to_state) for e in deactivated} == {("active", "deactivated")}
    created = events("migration_offer.create")
    assert {e.object_id for e in created} == set(migration.offers.values_list("pk", flat=True))
    offer = MigrationOffer.objects.get(migration=migration, installation=installations[0])
    services.migration_offer_accept(offer=offer, actor=admin)
    (accepted,) = events("migration_offer.accept")
    assert (accepted.object_id, accepted.from_state, accepted.to_state) == (offer.pk, "offered", "accepted")
    (on,) = events("installation.activate", object_id=installations[0].pk)
    assert (on.from_state, on.to_state) == ("deactivated", "active")


def test_keeping_the_installed_version_writes_the_offer_and_installation_rows(products, catalogue):
    site, admin = stash_site(products)
    listing = ListingFactory()
    version = VersionFactory(listing=listing, number="2.0.0", compatibility=STASH + BITBUCKET, state="published")
    installation = install(site, listing, version)
    migration = services.site_migrate_product(
        site=site, host_product="bitbucket-server", host_version="4.0", actor=admin
    )
    offer = MigrationOffer.objects.get(migration=migration, installation=installation)
    assert offer.code == "not_greater"
    services.migration_offer_keep(offer=offer, actor=admin)
    (kept,) = events("migration_offer.keep")
    assert (kept.actor, kept.from_state, kept.to_state) == (admin, "unavailable", "accepted")
    (on,) = events("installation.activate", object_id=installation.pk)
    assert (on.from_state, on.to_state) == ("deactivated", "active")


# --- beta share links ----------------------------------------------------------------------------


def test_beta_links_write_a_row_when_made_revoked_and_used(catalogue):
    bw = make_beta_world()
    link = bw.link()
    (made,) = events("beta_link.create")
    assert (made.object_id, made.actor, made.to_state) == (link.pk, bw.vendor_user, "active")
    record = services.beta_install(link_token=beta_link_token(link), site=bw.new_site, actor=bw.admin)
    (used,) = events("beta_link.install")
    assert used.actor == bw.admin and used.details["installation_id"] == record.installation_id
    (installed,) = events("installation.install", object_id=record.installation_id)
    assert (installed.actor, installed.to_state, installed.details["version"]) == (bw.admin, "active", bw.beta.number)
    services.beta_share_link_revoke(link=link, actor=bw.vendor_user)
    services.beta_share_link_revoke(link=link, actor=bw.vendor_user)  # the second revocation changes nothing
    (revoked,) = events("beta_link.revoke")
    assert (revoked.actor, revoked.from_state, revoked.to_state) == (bw.vendor_user, "active", "revoked")


# --- admins --------------------------------------------------------------------------------------


def _staff_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _site_form(site, **changes):
    data = {
        "name": site.name,
        "host_product": site.host_product_id,
        "host_version": site.host_version,
        "time_zone": site.time_zone,
        "maintenance_windows": "[]",
        "sandbox_vendor": "",
        "site_admins-TOTAL_FORMS": "0",
        "site_admins-INITIAL_FORMS": "0",
        "tokens-TOTAL_FORMS": "0",
        "tokens-INITIAL_FORMS": "0",
    }
    if site.auto_update:
        data["auto_update"] = "on"
    data.update(changes)
    return data


def test_the_site_admin_form_cannot_move_a_site_or_change_its_settings(world):
    site = world.sites[0]
    other = HostProductFactory(key="confluence", name="Confluence")
    client = _staff_client()
    data = _site_form(site, host_product=other.pk, host_version="8.0", name="Renamed")
    data.pop("auto_update")
    response = client.post(f"/admin/upgrades/site/{site.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    site.refresh_from_db()
    assert (site.host_product.key, site.host_version) == ("jira", "9.4.0")
    assert site.name == "Renamed" and site.auto_update is True  # staff decide nothing for a customer
    assert not events("site.update_settings")
    assert not events("site.move_product")


def test_the_site_admin_form_cannot_turn_a_customer_site_into_a_sandbox(world):
    """Issue 10, item 10: a site's sandbox vendor is fixed when it is added, or staff could open a
    customer's site to a vendor's OCP -dev versions (or strand -dev installations outside a sandbox)."""
    site = world.sites[0]
    response = _staff_client().post(
        f"/admin/upgrades/site/{site.pk}/change/", _site_form(site, sandbox_vendor=world.listing.vendor_id)
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.sandbox_vendor_id is None


def test_a_site_added_in_the_admin_writes_its_row(world):
    site = world.sites[0]
    client = _staff_client()
    data = _site_form(site, name="Brand New")
    response = client.post("/admin/upgrades/site/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Site.objects.get(name="Brand New")
    (created,) = events("site.create", object_id=added.pk)
    assert created.actor.is_staff and created.to_state == "jira 9.4.0"


def test_the_installation_admin_is_read_only(world):
    installation = world.installations[0]
    v2 = VersionFactory(listing=world.listing, number="9.9.9", state="superseded")
    client = _staff_client()
    assert client.get(f"/admin/upgrades/installation/{installation.pk}/change/").status_code == 200
    response = client.post(
        f"/admin/upgrades/installation/{installation.pk}/change/",
        {
            "site": installation.site_id,
            "listing": installation.listing_id,
            "version": v2.pk,
            "state": "active",
            "license": "free",
            "granted_scopes": "[]",
        },
    )
    assert response.status_code == 403
    installation.refresh_from_db()
    assert installation.version_id == world.v1.pk


# --- the site page's history ---------------------------------------------------------------------


def test_site_admins_see_their_sites_history_and_not_another_sites(world, django_capture_on_commit_callbacks):
    ask_consent(world, django_capture_on_commit_callbacks)
    mine, theirs = world.sites[0], world.sites[1]
    admin = world.admins[0].user
    services.site_update_settings(site=theirs, actor=world.admins[1].user, auto_update=False, maintenance_windows=[])
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    services.upgrade_request_reject(request_id=request.pk, actor=admin)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/upgrades/sites/{mine.pk}/")
    assert page.status_code == 200
    history = page.content.decode().split('id="history-heading"')[1]
    assert "Rejected upgrade request" in history and world.listing.name in history
    assert "Asked for consent on app" in history
    assert "changed the settings of" not in history.lower()  # the other site's row
    assert {e.object_id for e in page.context["history"] if e.object_type == "upgrades.site"} <= {mine.pk}
    assert client.get(f"/upgrades/sites/{theirs.pk}/").status_code == 404
    rollout_ids = set(Rollout.objects.values_list("pk", flat=True))
    assert not [
        e for e in page.context["history"] if e.object_type == "upgrades.rollout" and e.object_id in rollout_ids
    ]
    assert Site.objects.count() == 3
