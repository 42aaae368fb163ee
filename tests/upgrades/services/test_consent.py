"""Consent decisions: approving, rejecting, who may decide, reminders and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import NotFound, TransitionNotAllowed
from tests.factories import UserFactory
from tests.upgrades.world import publish
from upgrades import services
from upgrades.models import Installation, Rollout, Upgrade, UpgradeRequest

pytestmark = pytest.mark.django_db


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


def test_approving_while_the_vendor_halted_the_rollout_is_refused(world, django_capture_on_commit_callbacks):
    v2 = publish(world, "1.1.0", django_capture_on_commit_callbacks, scopes=["read:jira-work", "write:jira-work"])
    Rollout.objects.filter(version=v2).update(state="halted")
    request = UpgradeRequest.objects.get(installation=world.installations[0])
    with pytest.raises(TransitionNotAllowed, match="paused the rollout"):
        services.upgrade_request_approve(request_id=request.pk, actor=world.admins[0].user)
    request.refresh_from_db()
    assert request.state == "pending"
    assert Installation.objects.get(pk=world.installations[0].pk).version == world.v1
