"""Polling through the real parts: a Celery worker process on Redis, PostgreSQL,
a descriptor server on 127.0.0.1 and an SMTP server."""

from __future__ import annotations

import json

from django.core.cache import cache

from tests.factories import ListingFactory, MembershipFactory
from tests.integration.processes import wait_until
from versions.models import DescriptorPoll, Version
from versions.services.automatic import listing_request_poll


def descriptor(**fields) -> str:
    return json.dumps({"key": "acme", "scopes": ["read:jira-work"], "modules": {}, **fields})


def test_poll_now_runs_on_the_worker_and_mails_the_vendor(celery_worker_process, smtp_server, descriptor_server):
    owner = MembershipFactory(role="owner", vendor__contact_email="team@acme.example.com").user
    url = descriptor_server.serve("/acme.json", descriptor(), etag='"v1"')
    listing = ListingFactory(key="acme-connect", scheme="connect", descriptor_url=url, vendor=owner.vendors.get())

    listing_request_poll(listing=listing, actor=owner)
    first = wait_until(lambda: DescriptorPoll.objects.filter(listing=listing).first(), timeout=60)
    assert first is not None, "the worker did not poll"
    assert (first.outcome, first.trigger, first.requested_by_id) == ("version_created", "manual", owner.pk)
    assert first.version.number == "1.0.0"
    assert descriptor_server.hits("/acme.json")[0]["headers"]["User-Agent"].startswith("Marketplacebot/1.0 (+")

    descriptor_server.serve("/acme.json", descriptor(scopes=["read:jira-work", "write:jira-work"]), etag='"v2"')
    cache.clear()  # "Poll now" is throttled per listing
    listing_request_poll(listing=listing, actor=owner)
    second = wait_until(lambda: DescriptorPoll.objects.filter(listing=listing).exclude(pk=first.pk).first(), timeout=60)
    assert second.outcome == "version_created"
    assert second.version.number == "1.1.0"
    assert list(Version.objects.filter(listing=listing).order_by("build_number").values_list("state", flat=True)) == [
        "superseded",
        "published",
    ]

    # One message per recipient (the owner and the contact address), each with its own unsubscribe link.
    messages = smtp_server.wait_for(4, timeout=60)
    subjects = sorted({m["Subject"] for m in messages})
    assert len(messages) == 4 and len(subjects) == 2
    assert any("1.0.0" in s for s in subjects) and any("1.1.0" in s for s in subjects)
    for subject in subjects:
        assert sorted(m["To"] for m in messages if m["Subject"] == subject) == sorted(
            ["team@acme.example.com", owner.email.lower()]
        )
