"""A set-based rollout of one version to N installations (half need consent), applying the due
upgrades, and the consent e-mails sent to a real SMTP server (aiosmtpd) on 127.0.0.1.

Celery tasks are queued on an in-memory broker and not run, so the figures are the services'
own cost. (The 100,000-installation figures of issue #14 come from bench/scale.py.)
"""

from __future__ import annotations

import time


def build_catalogue(listings: int):
    from django.contrib.auth import get_user_model

    from marketplace.models import HostProduct, Listing, Scope, Vendor, VendorMembership
    from versions.models import Version

    for name, level in [("read:jira-work", 1), ("write:jira-work", 2), ("admin", 4)]:
        Scope.objects.get_or_create(name=name, defaults={"sensitivity": level})
    product, _ = HostProduct.objects.get_or_create(key="jira", defaults={"name": "Jira"})
    vendor = Vendor.objects.create(name="Bench Vendor", slug="bench-vendor")
    owner = get_user_model().objects.create_user("bench-owner", "owner@bench.example.com", "x")
    VendorMembership.objects.create(vendor=vendor, user=owner, role="owner")
    made = []
    schemes = ["manual", "connect", "forge", "ocp"]
    for n in range(listings):
        listing = Listing.objects.create(
            key=f"bench-app-{n}", name=f"Bench App {n}", vendor=vendor, scheme=schemes[n % 4]
        )
        old = Version(listing=listing, number="1.0.0", build_number=1, update_notes="First.", scopes=["read:jira-work"])
        old.__dict__["state"] = "superseded"
        old.save()
        new_scopes = ["read:jira-work", "write:jira-work"] if n % 2 else ["read:jira-work"]
        new = Version(listing=listing, number="1.1.0", build_number=2, update_notes="Second.", scopes=new_scopes)
        new.__dict__["state"] = "published"
        new.save()
        made.append((listing, old, new))
    return product, owner, made


def bench_rollout(product, made, installations: int, chunk: int) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from upgrades import services
    from upgrades.models import Installation, Rollout, Site, SiteAdmin, Upgrade, UpgradeRequest

    settings.ROLLOUT_CHUNK_SIZE = chunk
    listing, old, new = next(m for m in made if m[0].scheme == "manual" and m[2].scopes == ["read:jira-work"])
    sites = Site.objects.bulk_create(
        Site(name=f"Rollout site {n}", host_product=product, host_version="9.4.0") for n in range(installations)
    )
    SiteAdmin.objects.bulk_create(SiteAdmin(site=s, email=f"admin{s.pk}@bench.example.com") for s in sites)
    # The new version asks for read:jira-work; half of the sites never granted it: they need consent.
    Installation.objects.bulk_create(
        Installation(
            site=s,
            listing=listing,
            version=old,
            granted_scopes=["read:jira-work"] if n % 2 else [],
        )
        for n, s in enumerate(sites)
    )
    rollout = Rollout.objects.create(version=new, listing=listing)
    chunk_queries = []
    started = time.perf_counter()
    while True:
        with CaptureQueriesContext(connection) as ctx:
            done = services.rollout_process_chunk(rollout_id=rollout.pk)
        if not done:
            break
        chunk_queries.append(len(ctx.captured_queries))
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    applied = 0
    while True:
        with CaptureQueriesContext(connection) as ctx:
            n = services.upgrades_apply_due()
        if not n:
            break
        applied += n
    apply_elapsed = time.perf_counter() - started
    return {
        "installations": Installation.objects.filter(listing=listing).count(),
        "chunk": chunk,
        "seconds": elapsed,
        "per_second": installations / elapsed if elapsed else 0,
        "queries_per_chunk": sorted(set(chunk_queries)),
        "chunks": len(chunk_queries),
        "upgrades": Upgrade.objects.filter(rollout=rollout).count(),
        "requests": UpgradeRequest.objects.filter(rollout=rollout).count(),
        "applied": applied,
        "apply_seconds": apply_elapsed,
        "apply_queries_per_batch": len(ctx.captured_queries),
    }


def bench_emails(limit: int) -> dict:
    """Send the consent e-mails of the rollout's requests to an SMTP server on loopback."""
    import logging
    import socket

    from aiosmtpd.controller import Controller
    from django.conf import settings

    from upgrades import emails
    from upgrades.models import UpgradeRequest

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
    received = []

    class Handler:
        async def handle_DATA(self, smtp, session, envelope):
            received.append(len(envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        ids = list(UpgradeRequest.objects.filter(state="pending").order_by("pk").values_list("pk", flat=True)[:limit])
        started = time.perf_counter()
        emails.send_request_emails_many(ids)
        elapsed = time.perf_counter() - started
    finally:
        controller.stop()
    return {"requests": len(ids), "received": len(received), "seconds": elapsed}
