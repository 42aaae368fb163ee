"""`python -m bench`: the update check (the hot path) and a set-based rollout, measured.

Runs against a throw-away test database made from DATABASE_URL (SQLite by
default, PostgreSQL with `make bench`), fills it with bulk inserts and prints:

- the update check (GET /api/v1/sites/{id}/updates with a site token):
  latency percentiles and queries per request for sites with 1, 10 and 100
  installations (the query count must not grow);
- a rollout of one version to N installations (half need consent): time,
  installations per second and queries per chunk; then applying the due upgrades;
- the storefront's search (GET /api/v1/apps?q=...) over 10,000 listings:
  latency percentiles and queries per request (PostgreSQL: full-text search
  with its GIN index and ranking; SQLite: case-insensitive matching).
- the rollout's consent e-mails sent to a real SMTP server (aiosmtpd) on
  127.0.0.1: e-mails per second.

Celery tasks are queued on an in-memory broker and not run, so the figures are
the services' own cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")


def _setup() -> None:
    import django

    django.setup()
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return ordered[index]


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


def bench_update_check(product, made, requests: int) -> list[tuple]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from upgrades import services
    from upgrades.models import Installation, Site

    rows = []
    for size in (1, 10, 100):
        size = min(size, len(made))
        site = Site.objects.create(name=f"Bench site {size}", host_product=product, host_version="9.4.0")
        Installation.objects.bulk_create(
            Installation(site=site, listing=listing, version=old, granted_scopes=["read:jira-work"])
            for listing, old, _ in made[:size]
        )
        _, raw = services.site_token_create(site=site)
        client = Client(HTTP_AUTHORIZATION=f"Site {raw}")
        url = f"/api/v1/sites/{site.pk}/updates"
        assert client.get(url).status_code == 200  # warm caches
        reset_queries()  # each request resets the log (request_started); start from an empty one
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and response.json()["updates_available"] == size
        rows.append(
            (
                size,
                len(ctx.captured_queries),
                statistics.median(timings),
                _percentile(timings, 95),
                requests / (sum(timings) / 1000),
            )
        )
    return rows


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


WORDS = (  # noqa: SIM905 - one readable block of words
    "time tracking timesheets reports charts gantt roadmap sprint backlog approvals workflow "
    "diagrams glossary export pdf security audit access sync slack github salesforce "
    "estimation poker okr risk templates assign merge secrets mirror insights dashboards"
).split()


def bench_storefront_search(listings: int, searches: int) -> dict:
    """GET /api/v1/apps?q=... (anonymous) over `listings` published listings, bulk-inserted."""
    import random

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from marketplace.models import Listing, Vendor
    from marketplace.services import listing_search_refresh
    from versions.models import Version
    from versions.numbers import parse_version, version_sort_key

    rng = random.Random(12)
    # A catalogue's vocabulary: the common words above plus 3,000 made-up product words, so a
    # search matches tens to hundreds of listings, as in a real marketplace, not half of them.
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pra", "qua", "dex", "fin", "gor", "hul"]
    vocabulary = sorted({"".join(rng.choice(syllables) for _ in range(3)) for _ in range(4000)})[:3000] + WORDS
    vendor = Vendor.objects.create(name="Search Bench Vendor", slug="search-bench")
    rows = []
    for n in range(listings):
        words = rng.sample(vocabulary, 4)
        rows.append(
            Listing(
                key=f"search-{n:05d}",
                name=f"{words[0].title()} {words[1].title()} {n}",
                summary=f"{words[2]} and {words[3]} for teams",
                description=" ".join(rng.sample(vocabulary, 12)),
                vendor=vendor,
            )
        )
    made = Listing.objects.bulk_create(rows, batch_size=2000)
    key = version_sort_key(parse_version("1.0.0"))
    Version.objects.bulk_create(
        [
            Version(
                listing=listing,
                number="1.0.0",
                sort_key=key,
                build_number=1,
                update_notes="First release.",
                state="published",
                channel="release",
            )
            for listing in made
        ],
        batch_size=2000,
    )
    started = time.perf_counter()
    listing_search_refresh()
    index_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE marketplace_listing")
            cursor.execute("ANALYZE versions_version")
    client = Client()
    timings, counts, queries = [], [], 0
    for _ in range(searches):
        term = rng.choice(vocabulary)[: rng.choice((4, 6, 20))]
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/apps", {"q": term})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        counts.append(response.json()["count"])
        queries = max(queries, len(ctx.captured_queries))
    gin = None
    if connection.vendor == "postgresql":
        from django.contrib.auth.models import AnonymousUser

        from storefront.filters import CatalogueFilter
        from storefront.selectors import catalogue_listings

        filterset = CatalogueFilter({"q": "time"}, queryset=catalogue_listings(user=AnonymousUser()))
        assert filterset.is_valid()
        plan = filterset.sorted_results()[:50].explain()
        gin = "listing_search_vector_gin" in plan
    return {
        "gin_used": gin,
        "listings": listings,
        "searches": searches,
        "p50": _percentile(timings, 50),
        "p95": _percentile(timings, 95),
        "max": max(timings),
        "queries": queries,
        "mean_results": statistics.mean(counts),
        "index_seconds": index_seconds,
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--installations", type=int, default=5000, help="installations in the rollout (default 5000)")
    parser.add_argument("--requests", type=int, default=200, help="update checks per site size (default 200)")
    parser.add_argument("--chunk", type=int, default=500, help="rollout chunk size (default 500)")
    parser.add_argument("--listings", type=int, default=10_000, help="listings for the storefront search (10000)")
    parser.add_argument("--searches", type=int, default=200, help="storefront searches to time (default 200)")
    parser.add_argument("--emails", type=int, default=2000, help="consent e-mails to send (default 2000)")
    args = parser.parse_args()
    _setup()
    from django.db import connection

    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":  # never the test suite's database: a name of the bench's own
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{old_name}"
    test_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"database: {connection.vendor} ({test_name})")
        product, _owner, made = build_catalogue(100)
        print("\nupdate check  GET /api/v1/sites/{id}/updates  (site token)")
        print(f"{'installations':>13} {'queries':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}")
        for size, queries, p50, p95, rps in bench_update_check(product, made, args.requests):
            print(f"{size:>13} {queries:>8} {p50:>8.2f} {p95:>8.2f} {rps:>8.0f}")
        result = bench_rollout(product, made, args.installations, args.chunk)
        print(f"\nrollout of one version to {result['installations']} installations (chunks of {result['chunk']})")
        print(f"  offered: {result['upgrades']} automatic upgrades, {result['requests']} consent requests")
        print(
            f"  {result['seconds']:.2f} s, {result['per_second']:.0f} installations/s, {result['chunks']} chunks, "
            f"queries per chunk: {result['queries_per_chunk']}"
        )
        print(
            f"  applying the due upgrades: {result['applied']} in {result['apply_seconds']:.2f} s "
            f"({result['applied'] / result['apply_seconds'] if result['apply_seconds'] else 0:.0f}/s), "
            f"{result['apply_queries_per_batch']} queries for the final (empty) batch"
        )
        search = bench_storefront_search(args.listings, args.searches)
        engine = "full-text (GIN, SearchRank)" if connection.vendor == "postgresql" else "icontains (SQLite)"
        print(f"\nstorefront search  GET /api/v1/apps?q=<word or prefix>  over {search['listings']:,} listings")
        print(
            f"  {engine}: p50 {search['p50']:.1f} ms, p95 {search['p95']:.1f} ms, max {search['max']:.1f} ms "
            f"({search['searches']} searches, {search['queries']} queries each, "
            f"{search['mean_results']:.0f} results on average; search index built in {search['index_seconds']:.2f} s)"
        )
        if search["gin_used"] is not None:
            print(f"  the query plan uses the GIN index: {'yes' if search['gin_used'] else 'NO'}")
        mail = bench_emails(args.emails)
        print(
            f"\ne-mails to an SMTP server on 127.0.0.1: the consent e-mails of {mail['requests']} requests, "
            "and any other e-mail the code queued meanwhile (the outbox sends the applied upgrades' too)"
        )
        print(
            f"  {mail['received']} received in {mail['seconds']:.2f} s: "
            f"{mail['received'] / mail['seconds'] if mail['seconds'] else 0:.0f} e-mails/s"
        )
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
