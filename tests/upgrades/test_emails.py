"""The e-mail outbox (upgrades.emails): rows queued with the change they announce, claimed
by one sender at a time, sent in batches over one connection, marked sent; a crashed
sender's claims expire and are sent again under the same Message-ID."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import OperationalError, connection
from django.utils import timezone

from tests.upgrades.world import make_world
from upgrades import emails, services
from upgrades.models import Rollout, SentEmail, Site, UpgradeRequest
from versions.models import Version

pytestmark = pytest.mark.django_db


class CountingBackend(EmailBackend):
    """locmem, counting the connections opened and refusing one address (as an SMTP server would)."""

    opened = 0
    refuse = ""

    def open(self):
        type(self).opened += 1
        return True

    def send_messages(self, messages):
        for message in messages:
            if self.refuse in message.to:
                raise smtplib.SMTPRecipientsRefused({self.refuse: (550, b"no such mailbox")})
        return super().send_messages(messages)


@pytest.fixture
def counting_backend(settings):
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened, CountingBackend.refuse = 0, ""
    return CountingBackend


def _consent_rollout(catalogue, sites=3, admins_per_site=1):
    """A chunk that makes one consent request per site, run without its on-commit tasks."""
    world = make_world(sites=sites, admins_per_site=admins_per_site)
    Version.objects.filter(pk=world.v1.pk).update(state="superseded")
    from tests.factories import VersionFactory

    v2 = VersionFactory(
        listing=world.listing, number="1.1.0", scopes=["read:jira-work", "write:jira-work"], state="published"
    )
    rollout = Rollout.objects.create(version=v2, listing=world.listing)
    services.rollout_process_chunk(rollout_id=rollout.pk)
    return world, rollout


def test_a_chunk_queues_one_row_per_admin_in_its_transaction_with_a_message_id(
    catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        world, _ = _consent_rollout(catalogue, sites=2, admins_per_site=2)
    rows = SentEmail.objects.filter(kind="consent")
    assert sorted(rows.values_list("recipient", flat=True)) == sorted(a.email for a in world.admins)
    assert {r.state for r in rows} == {"queued"} and all(r.message_id.startswith("<") for r in rows)
    assert len({r.message_id for r in rows}) == 4
    assert mail.outbox == []  # nothing leaves before the commit's task (or beat) sends it
    assert callbacks  # the sending task (and the next chunk) go to the broker after the commit


def test_a_batch_goes_out_over_one_connection_under_each_rows_message_id(catalogue, counting_backend, settings):
    settings.OUTBOX_BATCH_SIZE = 50
    _consent_rollout(catalogue, sites=5)
    assert emails.outbox_send() == 5
    assert counting_backend.opened == 1
    rows = {r.recipient: r for r in SentEmail.objects.all()}
    assert {r.state for r in rows.values()} == {"sent"} and all(r.sent_at for r in rows.values())
    for message in mail.outbox:
        assert message.extra_headers["Message-ID"] == rows[message.to[0]].message_id
        assert "needs your approval" in message.subject and "/upgrades/consent/" in message.body
    assert emails.outbox_send() == 0  # sent rows are never sent again


def test_a_crashed_senders_claims_expire_and_are_sent_again_with_the_same_message_id(catalogue, settings):
    _consent_rollout(catalogue, sites=2)
    now = timezone.now()
    claimed = emails._outbox_claim(limit=10, now=now)  # a sender took them, then died before sending
    assert len(claimed) == 2
    assert emails.outbox_send(now=now + timedelta(seconds=1)) == 0  # the claim still holds
    assert mail.outbox == []
    later = now + settings.OUTBOX_CLAIM_TIMEOUT + timedelta(seconds=1)
    assert emails.outbox_send(now=later) == 2
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == sorted(r.message_id for r in claimed)
    assert set(SentEmail.objects.values_list("attempts", flat=True)) == {2}


def test_a_request_answered_before_its_email_left_is_not_mailed(catalogue):
    _consent_rollout(catalogue, sites=2)
    UpgradeRequest.objects.filter(pk=UpgradeRequest.objects.order_by("pk").first().pk).update(state="expired")
    assert emails.outbox_send() == 1
    skipped = SentEmail.objects.get(state="skipped")
    assert "answered or closed" in skipped.outcome and skipped.sent_at is None
    assert len(mail.outbox) == 1


def test_a_refused_recipient_does_not_stop_the_batch_and_is_given_up_after_the_last_try(
    catalogue, counting_backend, settings
):
    world, _ = _consent_rollout(catalogue, sites=3)
    counting_backend.refuse = world.admins[1].email
    settings.OUTBOX_MAX_ATTEMPTS = 2
    now = timezone.now()
    assert emails.outbox_send(now=now) == 2
    refused = SentEmail.objects.get(recipient=world.admins[1].email)
    assert refused.state == "queued" and "no such mailbox" in refused.outcome
    assert emails.outbox_send(now=now + settings.OUTBOX_CLAIM_TIMEOUT + timedelta(seconds=1)) == 0
    refused.refresh_from_db()
    assert refused.state == "failed" and refused.attempts == 2


def test_queueing_twice_queues_once(catalogue):
    _consent_rollout(catalogue, sites=2)
    ids = list(UpgradeRequest.objects.values_list("pk", flat=True))
    assert emails.outbox_add_requests(ids) in (0, 2)  # ignore_conflicts: backends differ in what they count
    assert SentEmail.objects.filter(kind="consent").count() == 2
    assert emails.send_request_emails_many(ids) == 2 and emails.send_request_emails_many(ids) == 0
    assert len(mail.outbox) == 2


@pytest.mark.database
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_take_the_same_row(catalogue, settings):
    """On PostgreSQL, SELECT ... FOR UPDATE SKIP LOCKED: concurrent claims are disjoint."""
    from tests.concurrency import race

    _consent_rollout(catalogue, sites=12)
    SentEmail.objects.update(state="queued", sent_at=None)  # the eager on-commit task sent them: queue again
    now = timezone.now()
    outcomes = race(lambda _: [r.pk for r in emails._outbox_claim(limit=8, now=now)], [1, 2, 3])
    claims = [value for status, value in outcomes if status == "ok"]
    errors = [value for status, value in outcomes if status == "error"]
    # SQLite (the fast phase) answers a concurrent writer with "table is locked": transient, retried.
    assert all(isinstance(e, OperationalError) for e in errors), outcomes
    taken = [pk for claim in claims for pk in claim]
    assert len(taken) == len(set(taken))
    if connection.vendor == "postgresql":  # SKIP LOCKED: nobody waits, nobody fails, the rows are shared out
        assert not errors and len(taken) == 12, outcomes


def test_a_row_that_cannot_be_rendered_fails_alone_and_the_batch_goes_on(catalogue, monkeypatch):
    _consent_rollout(catalogue, sites=3)
    first = SentEmail.objects.order_by("pk").first()
    # Consent e-mails are built from bodies rendered once per batch (build_email_from), others
    # with build_email: the first row fails either way.
    for name in ("build_email", "build_email_from"):
        real = getattr(emails, name)

        def build(real=real, **kwargs):
            if kwargs["to"] == [first.recipient]:
                raise ValueError("a template refers to something that is gone")
            return real(**kwargs)

        monkeypatch.setattr(emails, name, build)
    assert emails.outbox_send() == 2
    first.refresh_from_db()
    assert first.state == "failed" and "could not be rendered" in first.outcome
    assert emails.outbox_send() == 0 and len(mail.outbox) == 2  # never picked up again


def _sent_bodies():
    # Each consent link is signed afresh (the token holds a timestamp): compared without the token.
    def unsigned(body):
        return re.sub(r"/consent/[^\s\"<]+", "/consent/TOKEN", body)

    return {
        m.to[0]: (m.subject, unsigned(m.body), unsigned(m.alternatives[0][0]), m.extra_headers["Message-ID"])
        for m in mail.outbox
    }


def test_consent_bodies_rendered_once_per_batch_are_the_messages_a_full_render_makes(catalogue, monkeypatch):
    world, _ = _consent_rollout(catalogue, sites=3, admins_per_site=2)
    Site.objects.filter(pk__in=[s.pk for s in world.sites[:2]]).update(name="Tom & <Jerry>")
    requeue = {"state": "queued", "sent_at": None, "claimed_until": None}
    SentEmail.objects.update(**requeue)
    mail.outbox.clear()
    renders = []
    real = emails.render_to_string
    monkeypatch.setattr(emails, "render_to_string", lambda *a, **k: renders.append(a[0]) or real(*a, **k))
    assert emails.outbox_send() == 6
    shared = _sent_bodies()
    # One (listing, versions, reasons): its two templates rendered with markers and once in full to check.
    assert len(renders) == 4
    # The same rows rendered in full, template by template (the path every other e-mail takes).
    SentEmail.objects.update(**requeue)
    mail.outbox.clear()
    monkeypatch.setattr(emails, "_SHARED_TEMPLATES", frozenset())
    assert emails.outbox_send() == 6
    full = _sent_bodies()
    assert len(shared) == 6 and shared == full
    for recipient, (_subject, text, html, _message_id) in shared.items():
        assert recipient in text and recipient in html and "/consent/TOKEN" in text
    texts = [text for _, text, _, _ in shared.values()]
    htmls = [html for _, _, html, _ in shared.values()]
    assert sum("Tom & <Jerry>" in t for t in texts) == 4 and sum("Tom &amp; &lt;Jerry&gt;" in h for h in htmls) == 4


def test_a_consent_template_the_markers_cannot_fill_is_rendered_in_full(catalogue, monkeypatch):
    _consent_rollout(catalogue, sites=2)
    SentEmail.objects.update(state="queued", sent_at=None, claimed_until=None)
    mail.outbox.clear()
    real = emails.render_to_string

    def render(name, context):  # a template that shows the site's name in capitals: not a plain part
        out = real(name, context)
        return out.replace(context["site"].name, context["site"].name.upper())

    monkeypatch.setattr(emails, "render_to_string", render)
    assert emails.outbox_send() == 2
    for message in mail.outbox:
        site_name = UpgradeRequest.objects.get(emails__recipient=message.to[0]).installation.site.name
        assert site_name.upper() in message.body and site_name.upper() in message.alternatives[0][0]
