"""Notification preferences (issue #16 item 5): per-site applied-upgrade e-mails (immediately, daily
digest, off), vendor e-mail kinds, and the signed unsubscribe link that changes exactly one preference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.emails import vendor_recipients
from core.models import AuditEvent, EmailPreference
from core.notifications import (
    APPLIED_UPGRADES,
    AUTOMATIC_VERSIONS,
    POLL_FAILURES,
    REVIEW_DECISIONS,
    unsubscribe_token,
)
from tests.factories import MembershipFactory, SiteAdminFactory, UserFactory, VendorFactory, verified
from tests.upgrades.world import make_world
from upgrades import emails
from upgrades.models import SentEmail, SiteAdmin, Upgrade, UpgradeDigest
from upgrades.services.notifications import upgrade_digests_make

pytestmark = pytest.mark.django_db


def applied(world, installation, at, number):
    from tests.factories import VersionFactory

    to = VersionFactory(listing=world.listing, number=number, state="superseded")
    return Upgrade.objects.create(
        installation=installation,
        from_version=world.v1,
        to_version=to,
        state="applied",
        due_at=at,
        applied_at=at,
    )


@pytest.fixture
def world(db):
    return make_world(sites=2, admins_per_site=3)


def unsubscribe_path(**kw):
    return f"/upgrades/unsubscribe/{unsubscribe_token(**kw)}/"


# --- who gets the applied-upgrade e-mail ---------------------------------------------------------


def test_applied_upgrade_emails_go_only_to_admins_who_want_them_at_once(world):
    now_, digest, off = (a for a in world.admins[:3])  # the three admins of the first site
    SiteAdmin.objects.filter(pk=digest.pk).update(applied_upgrades="digest")
    SiteAdmin.objects.filter(pk=off.pk).update(applied_upgrades="off")
    upgrade = applied(world, world.installations[0], timezone.now(), "1.0.1")
    emails.outbox_add_applied([upgrade.pk])
    assert list(SentEmail.objects.filter(kind="applied").values_list("recipient", flat=True)) == [now_.email]


def test_consent_requests_are_not_filtered_by_the_preference(world, catalogue):
    SiteAdmin.objects.update(applied_upgrades="off")
    from upgrades.models import UpgradeRequest

    request = UpgradeRequest.objects.create(
        installation=world.installations[0], from_version=world.v1, to_version=world.v1, reasons=[]
    )
    emails.outbox_add_requests([request.pk])
    assert SentEmail.objects.filter(kind="consent").count() == 3  # every admin of the site
    assert emails.outbox_send() == 3
    assert all("can't be turned off" in m.body and "List-Unsubscribe" not in m.extra_headers for m in mail.outbox)


def test_applied_email_carries_the_site_scoped_unsubscribe_link_and_header(world, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    upgrade = applied(world, world.installations[0], timezone.now(), "1.0.1")
    emails.outbox_add_applied([upgrade.pk])
    assert emails.outbox_send() == 3
    message = mail.outbox[0]
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://portal.example.com/upgrades/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header[1:-1] in message.body


# --- the unsubscribe link ---------------------------------------------------------------------------


def test_unsubscribe_get_changes_nothing_and_post_changes_exactly_one_preference(world):
    admin = world.admins[0]
    # The same address administers the second site too: that site's preference must not move.
    other_site = SiteAdminFactory(site=world.sites[1], user=admin.user, email=admin.email)
    path = unsubscribe_path(kind=APPLIED_UPGRADES, email=admin.email, site_id=admin.site_id)
    client = Client(enforce_csrf_checks=True)  # no session, no CSRF token: the signature is the authority
    page = client.get(path)
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    before = dict(SiteAdmin.objects.values_list("pk", "applied_upgrades"))
    assert set(before.values()) == {"immediately"}
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"Nothing else changed" in response.content
    after = dict(SiteAdmin.objects.values_list("pk", "applied_upgrades"))
    assert after.pop(admin.pk) == "off"
    before.pop(admin.pk)
    assert after == before and after[other_site.pk] == "immediately"
    assert not EmailPreference.objects.exists()
    event = AuditEvent.objects.get(action="site_admin.applied_upgrade_emails")
    assert (event.from_state, event.to_state, event.actor_id) == ("immediately", "off", None)
    assert event.details["via"] == "unsubscribe link"


def test_vendor_unsubscribe_turns_off_one_kind_for_one_address():
    vendor = VendorFactory(contact_email="team@acme.example.com")
    member = MembershipFactory(vendor=vendor, user=UserFactory(email="dev@acme.example.com")).user
    response = Client().post(unsubscribe_path(kind=REVIEW_DECISIONS, email=member.email))
    assert response.status_code == 200
    assert list(EmailPreference.objects.values_list("email", "kind", "enabled")) == [
        ("dev@acme.example.com", REVIEW_DECISIONS, False)
    ]
    assert vendor_recipients(vendor, REVIEW_DECISIONS) == ["team@acme.example.com"]
    assert vendor_recipients(vendor, POLL_FAILURES) == ["dev@acme.example.com", "team@acme.example.com"]
    assert vendor_recipients(vendor) == ["dev@acme.example.com", "team@acme.example.com"]


@pytest.mark.parametrize("token", ["not-a-token", unsubscribe_token(kind=REVIEW_DECISIONS, email="a@b.c")[:-3] + "xyz"])
def test_a_tampered_unsubscribe_link_is_refused_and_changes_nothing(token):
    response = Client().post(f"/upgrades/unsubscribe/{token}/")
    assert response.status_code == 400
    assert not EmailPreference.objects.exists() and not AuditEvent.objects.exists()


def test_a_link_signed_for_another_purpose_is_refused():
    from django.core import signing

    forged = signing.dumps({"k": REVIEW_DECISIONS, "e": "a@b.c"}, salt="upgrades.consent-link")
    assert Client().post(f"/upgrades/unsubscribe/{forged}/").status_code == 400
    assert not EmailPreference.objects.exists()


# --- the daily digest ----------------------------------------------------------------------------


def test_digest_collects_each_applied_upgrade_once_per_admin_and_day(world, django_capture_on_commit_callbacks):
    admin = world.admins[0]
    SiteAdmin.objects.filter(pk=admin.pk).update(applied_upgrades="digest")
    now = timezone.now().replace(hour=6, minute=0, second=0, microsecond=0)
    first = applied(world, world.installations[0], now - timedelta(hours=5), "1.0.1")
    second = applied(world, world.installations[0], now - timedelta(hours=1), "1.0.2")
    applied(world, world.installations[1], now - timedelta(hours=1), "1.0.3")  # another site: not in it
    with django_capture_on_commit_callbacks(execute=True):
        made = upgrade_digests_make(now=now)
    digest = UpgradeDigest.objects.get()
    assert made == [digest.pk] and digest.site_admin_id == admin.pk
    assert digest.upgrade_ids == [first.pk, second.pk]
    digest.refresh_from_db()
    assert digest.sent_at is not None  # its task ran on commit
    to_admin = [m for m in mail.outbox if m.to == [admin.email]]
    assert len(to_admin) == 1 and "2 app upgrades" in to_admin[0].subject
    assert "1.0.1" in to_admin[0].body and "1.0.2" in to_admin[0].body and "1.0.3" not in to_admin[0].body
    assert "List-Unsubscribe" in to_admin[0].extra_headers
    # Later the same day: nothing more, even with a new upgrade.
    third = applied(world, world.installations[0], now + timedelta(hours=2), "1.0.4")
    assert upgrade_digests_make(now=now + timedelta(hours=3)) == []
    assert UpgradeDigest.objects.count() == 1 and len(mail.outbox) == 1
    # The next day's digest starts where the last one ended: the new upgrade only.
    upgrade_digests_make(now=now + timedelta(days=1))
    latest = UpgradeDigest.objects.order_by("-period_end").first()
    assert latest.upgrade_ids == [third.pk] and latest.period_start == now


def test_digest_task_run_twice_sends_once(world, django_capture_on_commit_callbacks):
    admin = world.admins[0]
    SiteAdmin.objects.filter(pk=admin.pk).update(applied_upgrades="digest")
    now = timezone.now()
    applied(world, world.installations[0], now - timedelta(hours=1), "1.0.1")
    with django_capture_on_commit_callbacks(execute=True):
        upgrade_digests_make(now=now)
    digest = UpgradeDigest.objects.get()
    assert emails.send_upgrade_digest(digest.pk) is None  # already sent
    assert len(mail.outbox) == 1


def test_no_digest_mail_without_upgrades_and_none_for_other_choices(world):
    SiteAdmin.objects.filter(pk=world.admins[0].pk).update(applied_upgrades="digest")
    assert upgrade_digests_make() == []
    assert UpgradeDigest.objects.count() == 1  # recorded, so the next one starts here
    assert mail.outbox == []


# --- settings pages and API ----------------------------------------------------------------------


def test_site_admin_sets_their_own_preference_for_one_site(world):
    admin = world.admins[0]
    verified(admin.user)
    client = Client()
    client.force_login(admin.user)
    page = client.get(f"/upgrades/sites/{admin.site_id}/")
    assert b"Your e-mails" in page.content
    response = client.post(f"/upgrades/sites/{admin.site_id}/notifications/", {"applied_upgrades": "digest"})
    assert response.status_code == 302
    assert dict(SiteAdmin.objects.filter(site_id=admin.site_id).values_list("pk", "applied_upgrades")) == {
        a.pk: ("digest" if a.pk == admin.pk else "immediately") for a in world.admins[:3]
    }
    response = client.post(f"/upgrades/sites/{admin.site_id}/notifications/", {"applied_upgrades": "never"})
    assert response.status_code == 400 and b"valid choice" in response.content


def test_site_notifications_api(world):
    admin = world.admins[0]
    verified(admin.user)
    api = APIClient()
    api.force_authenticate(admin.user)
    url = f"/api/v1/sites/{admin.site_id}/notifications"
    assert api.get(url).json() == {
        "email": admin.email,
        "consent_requests": "immediately",
        "applied_upgrades": "immediately",
    }
    r = api.put(url, {"applied_upgrades": "off"}, format="json")
    assert r.status_code == 200 and r.json()["applied_upgrades"] == "off"
    r = api.put(url, {"applied_upgrades": "sometimes"}, format="json")
    assert r.status_code == 400 and "applied_upgrades" in str(r.json())
    other = world.sites[1]
    assert api.get(f"/api/v1/sites/{other.pk}/notifications").status_code == 404


def test_vendor_preferences_page_and_api():
    member = MembershipFactory(user=UserFactory(email="dev@acme.example.com")).user
    client = Client()
    client.force_login(member)
    page = client.get("/accounts/notifications/")
    assert page.status_code == 200 and b"dev@acme.example.com" in page.content
    data = dict.fromkeys((REVIEW_DECISIONS, POLL_FAILURES), "on")  # automatic versions and delivery failures off
    assert client.post("/accounts/notifications/", data).status_code == 302
    off = set(EmailPreference.objects.filter(enabled=False).values_list("kind", flat=True))
    assert off == {AUTOMATIC_VERSIONS, "delivery_failures"}
    api = APIClient()
    api.force_authenticate(member)
    body = api.get("/api/v1/notifications").json()
    assert body["email"] == "dev@acme.example.com" and body[AUTOMATIC_VERSIONS] is False
    r = api.put("/api/v1/notifications", {AUTOMATIC_VERSIONS: True}, format="json")
    assert r.status_code == 200 and r.json()[AUTOMATIC_VERSIONS] is True and r.json()["delivery_failures"] is False
    assert AuditEvent.objects.filter(action="notifications.email_preference").count() == 3


def test_each_vendor_email_carries_its_own_recipients_link_and_opted_out_addresses_get_none(settings):
    import re

    from core.emails import send_email_once
    from core.notifications import unsubscribe_read

    settings.PORTAL_BASE_URL = "https://portal.example.com"
    vendor = VendorFactory(contact_email="team@acme.example.com")
    MembershipFactory(vendor=vendor, user=UserFactory(email="dev@acme.example.com"))
    MembershipFactory(vendor=vendor, user=UserFactory(email="quiet@acme.example.com"))
    EmailPreference.objects.create(email="quiet@acme.example.com", kind=POLL_FAILURES, enabled=False)
    send_email_once(
        claim=lambda: object(),
        to=vendor_recipients(vendor, POLL_FAILURES),
        subject="Polling failed",
        template="emails/poll_failed",
        context={"poll": None, "listing": None, "listing_url": ""},
        unsubscribe_kind=POLL_FAILURES,
        message_key="poll-failure.test",
    )
    assert sorted(m.to[0] for m in mail.outbox) == ["dev@acme.example.com", "team@acme.example.com"]
    for message in mail.outbox:
        token = re.search(r"/upgrades/unsubscribe/([^/]+)/", message.body).group(1)
        assert unsubscribe_read(token) == {"kind": POLL_FAILURES, "email": message.to[0], "site_id": None}
        assert (
            message.extra_headers["List-Unsubscribe"] == f"<https://portal.example.com/upgrades/unsubscribe/{token}/>"
        )
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 2
