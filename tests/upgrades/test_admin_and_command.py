"""Admin pages and actions, the rollout_status command and the demo seed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.factories import UserFactory
from upgrades.models import Rollout, Site, SiteToken, UpgradeRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def rolled_out(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    request = UpgradeRequest.objects.filter(installation=world.installations[0]).get()
    from upgrades import services

    services.upgrade_request_reject(request_id=request.pk, actor=world.admins[0].user)
    return world


def test_rollout_status_prints_the_counts(rolled_out):
    out = StringIO()
    call_command("rollout_status", rolled_out.listing.key, stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    row = next(line for line in lines if line.startswith("1.1.0"))
    assert row.split()[:9] == ["1.1.0", "completed", "0", "0", "2", "1", "0", "0", "3"]
    assert "1.0.0" in lines[-1] and "3" in lines[-1]
    with pytest.raises(CommandError, match="No listing with key 'nope'"):
        call_command("rollout_status", "nope")


def test_admin_shows_progress_and_halts(rolled_out):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    rollout = Rollout.objects.get(version__number="1.1.0")
    changelist = client.get("/admin/upgrades/rollout/")
    assert changelist.status_code == 200 and "Awaiting consent: 2" in changelist.content.decode()
    assert client.get(f"/admin/upgrades/rollout/{rollout.pk}/change/").status_code == 200
    response = client.post(
        "/admin/upgrades/rollout/", {"action": "halt", "_selected_action": [rollout.pk]}, follow=True
    )
    assert "only a running rollout can be halted" in response.content.decode()
    Rollout.objects.filter(pk=rollout.pk).update(state="running")
    client.post("/admin/upgrades/rollout/", {"action": "halt", "_selected_action": [rollout.pk]})
    rollout.refresh_from_db()
    assert rollout.state == "halted" and rollout.halted_by == superuser
    for page in ("upgraderequest", "upgrade", "installation", "site", "sentemail"):
        assert client.get(f"/admin/upgrades/{page}/").status_code == 200
    site = rolled_out.sites[0]
    response = client.post(
        "/admin/upgrades/site/", {"action": "create_token", "_selected_action": [site.pk]}, follow=True
    )
    assert "shown once" in response.content.decode() and SiteToken.objects.filter(site=site).count() == 1


def test_demo_seed_is_idempotent_and_leaves_a_rollout_waiting_for_consent(db, django_capture_on_commit_callbacks):
    from django.core import mail

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=out)
    assert UpgradeRequest.objects.filter(state="pending").exists()
    assert any("needs your approval" in m.subject for m in mail.outbox)
    counts = (Site.objects.count(), UpgradeRequest.objects.count(), Rollout.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=out)
    assert (Site.objects.count(), UpgradeRequest.objects.count(), Rollout.objects.count()) == counts
    assert "Demo sites already present" in out.getvalue()
