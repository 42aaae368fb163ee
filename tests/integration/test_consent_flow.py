"""End to end with real parts: publishing on PostgreSQL starts the rollout on a real
Celery worker (Redis broker), the worker sends the consent e-mail to a real SMTP
server on 127.0.0.1, and the link in it is followed over HTTP to the live server,
where the admin approves."""

from __future__ import annotations

import re

import httpx

from tests.concurrency import race
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    ScopeFactory,
    SiteAdminFactory,
    SiteFactory,
    UserFactory,
    VersionFactory,
)
from tests.integration.processes import wait_until
from upgrades import services
from upgrades.models import Installation, SentEmail, Upgrade, UpgradeRequest
from versions.services import version_publish


def _text_part(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text/plain part")


def test_consent_email_link_approves_over_http(smtp_server, live_server, celery_worker_process):
    ScopeFactory(name="read:jira-work", sensitivity=1)
    ScopeFactory(name="write:jira-work", sensitivity=2)
    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, name="Team Calendar")
    v1 = VersionFactory(listing=listing, number="1.0.0", scopes=["read:jira-work"], state="published")
    site = SiteFactory(name="Customer Jira", host_product=HostProductFactory(key="jira", name="Jira"))
    admin = UserFactory(email="admin@customer.example.com")
    SiteAdminFactory(site=site, user=admin, email=admin.email)
    installation = services.installation_create(site=site, listing=listing, version=v1)
    v2 = VersionFactory(listing=listing, number="1.1.0", scopes=["read:jira-work", "write:jira-work"], state="approved")

    version_publish(version=v2, actor=membership.user)  # autocommit: the rollout task goes to Redis now

    [message] = smtp_server.wait_for(1, timeout=60)
    assert message["To"] == admin.email
    assert "Team Calendar 1.1.0 needs your approval" in message["Subject"]
    body = _text_part(message)
    assert "new scope write:jira-work (write)" in body
    link = re.search(r"(http://\S+/upgrades/consent/\S+/)", body).group(1)
    assert link.startswith(live_server.url)
    assert Installation.objects.get(pk=installation.pk).state == "pending_consent"

    with httpx.Client(timeout=20) as client:
        page = client.get(link)
        assert page.status_code == 200 and "write:jira-work" in page.text
        assert UpgradeRequest.objects.get(installation=installation).state == "pending"  # GET changed nothing
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        done = client.post(link, data={"csrfmiddlewaretoken": csrf, "action": "approve"})
        assert done.status_code == 200 and "now runs <strong>1.1.0</strong>" in done.text
        replay = client.post(link, data={"csrfmiddlewaretoken": csrf, "action": "approve"})
        assert replay.status_code == 409

    installation.refresh_from_db()
    assert installation.version_id == v2.pk and installation.state == "active"
    request = UpgradeRequest.objects.get(installation=installation)
    assert request.state == "approved" and request.decided_by_email == admin.email
    # The worker then tells the admins the upgrade was applied.
    messages = smtp_server.wait_for(2, timeout=60)
    assert "was upgraded to 1.1.0" in messages[1]["Subject"]
    assert wait_until(lambda: SentEmail.objects.filter(kind="applied", sent_at__isnull=False).count() == 1)
    assert SentEmail.objects.filter(kind="consent").count() == 1


def test_two_admins_deciding_at_once_one_wins(transactional_db):
    """Two admins' links used at the same moment on PostgreSQL: one decision wins, the
    other gets a clear refusal, and exactly one upgrade is applied."""
    from django.db import connection

    from core.errors import ApplicationError
    from upgrades.emails import consent_link_for, consent_token

    assert connection.vendor == "postgresql"
    ScopeFactory(name="read:jira-work", sensitivity=1)
    listing = ListingFactory()
    v1 = VersionFactory(listing=listing, number="1.0.0", scopes=["read:jira-work"], state="superseded")
    v2 = VersionFactory(listing=listing, number="1.1.0", scopes=["read:jira-work", "admin"], state="published")
    site = SiteFactory(host_product=HostProductFactory(key="jira", name="Jira"))
    emails = ["one@customer.example.com", "two@customer.example.com"]
    for email in emails:
        SiteAdminFactory(site=site, user=None, email=email)
    installation = services.installation_create(site=site, listing=listing, version=v1)
    request = UpgradeRequest.objects.create(installation=installation, from_version=v1, to_version=v2)
    tokens = [consent_token(consent_link_for(request, email)) for email in emails]
    decisions = [(tokens[0], "approve"), (tokens[1], "reject")]
    outcomes = race(lambda d: services.consent_link_use(request_id=request.pk, token=d[0], action=d[1]), decisions)
    results: dict[str, object] = {}
    for (_, action), (status, value) in zip(decisions, outcomes, strict=True):
        if status == "ok":
            results[action] = "ok"
        elif isinstance(value, ApplicationError):
            results[action] = value.message
        else:
            results[action] = f"crashed: {value!r}"
    assert sorted(results) == ["approve", "reject"]
    winners = [action for action, outcome in results.items() if outcome == "ok"]
    assert len(winners) == 1, results
    loser = "reject" if winners == ["approve"] else "approve"
    assert "already" in str(results[loser])
    request.refresh_from_db()
    installation.refresh_from_db()
    assert request.state == {"approve": "approved", "reject": "rejected"}[winners[0]]
    assert Upgrade.objects.filter(installation=installation).count() == (1 if winners == ["approve"] else 0)
    assert installation.version_id == (v2.pk if winners == ["approve"] else v1.pk)
