"""The storefront's search (GET /api/v1/apps?q=...) over 10,000 listings: latency and queries.

PostgreSQL: full-text search with its GIN index and ranking; SQLite: case-insensitive matching.
Runs in the bench process (Django's test client) on the bench database.
"""

from __future__ import annotations

import statistics
import time

from bench.numbers import percentile

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
    timings, counts, queries, searched = [], [], 0, []
    for _ in range(searches):
        term = rng.choice(vocabulary)[: rng.choice((4, 6, 20))]
        searched.append(term)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/apps", {"q": term})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        counts.append(response.json()["count"])
        queries = max(queries, len(ctx.captured_queries))
    gin_plans = None
    if connection.vendor == "postgresql":
        gin_plans = search_plans(client, terms=list(dict.fromkeys(searched))[:30])  # 4, 6 and 20 letters
    return {
        "gin_used": None if gin_plans is None else 0 < gin_plans["with_index"] == gin_plans["plans"],
        "gin_plans": gin_plans,
        "listings": listings,
        "searches": searches,
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "max": max(timings),
        "queries": queries,
        "mean_results": statistics.mean(counts),
        "index_seconds": index_seconds,
    }


def search_plans(client, *, terms: list[str]) -> dict:
    """EXPLAIN the very SQL the API ran for these searches (count and page, as captured from the
    request), not a queryset rebuilt beside it: how many of those plans read the GIN index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plans = with_index = 0
    for term in terms:
        connection.queries_log.clear()  # a full log (9,000 queries) would capture nothing
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/apps", {"q": term}).status_code == 200
        for query in ctx.captured_queries:
            if "@@" not in query["sql"]:
                continue  # the prefetches of host products and categories read no search document
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            plans += 1
            with_index += "listing_search_vector_gin" in plan
    return {"terms": len(terms), "plans": plans, "with_index": with_index}
