"""`python -m bench` (`make bench`): every figure of issue #14 beside its goal, and the rest.

Makes a PostgreSQL bench database (`bench_<name>` beside DATABASE_URL's; SQLite works for the
in-process parts), fills it with bulk inserts and measures, each subject in its module:

- bench/update_check.py: queries per update check at 1 to 10,000 installations, the 304's
  queries, and requests/s of the portal and of the floor (bench/floor.py) under gunicorn with
  the same settings (bench/server.py), side by side, with `wrk`;
- bench/scale.py (when present): the 100,000-installation rollout, applying 50,000 due
  upgrades, consent e-mails per second, the worker's peak memory;
- bench/catalogue.py: the storefront's search over 10,000 listings;
- bench/rollouts.py: a rollout to --installations (5,000) and its e-mails, in process.

Prints a table of the figures with their goals and writes var/bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")
RESULTS = ROOT / "var" / "bench" / "results.json"


def _setup() -> None:
    import django

    django.setup()
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"


def _database_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "postgres")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def _scale(installations: int) -> dict | None:
    """bench/scale.py's figures (rollout, apply, e-mails, worker memory), when that module exists."""
    try:
        from bench import scale
    except ImportError:
        return None
    return scale.run(installations=installations)


def _fmt(value: float | None, pattern: str) -> str:
    return "not measured" if value is None else pattern.format(value)


def _verdict(value: float | None, ok: bool) -> str:
    return "" if value is None else ("yes" if ok else "NO")


def print_table(results: dict) -> None:
    r = results
    rows = [
        (
            "update check, 200 installations, req/s portal vs floor (ratio)",
            "not measured"
            if r["update_check_rps_200"] is None
            else f"{r['update_check_rps_200']:.0f} vs {r['floor_rps_200']:.0f}: {r['update_check_ratio_200']:.2f}",
            ">= 0.5",
            _verdict(r["update_check_ratio_200"], (r["update_check_ratio_200"] or 0) >= 0.5),
        ),
        (
            "SQL queries per update check, 1 to 10,000 installations",
            " / ".join(f"{k}: {v}" for k, v in r["queries_by_site"].items()),
            "<= 3, same at every size",
            _verdict(
                r["queries_per_update_check"],
                r["queries_per_update_check"] <= 3 and len(set(r["queries_by_site"].values())) == 1,
            ),
        ),
        (
            "unchanged answer (If-None-Match)",
            f"304 with {r['not_modified_queries']} quer{'y' if r['not_modified_queries'] == 1 else 'ies'}",
            "304 with <= 1 query",
            _verdict(r["not_modified_queries"], r["not_modified_queries"] <= 1),
        ),
        (
            "rollout of one version to 100,000 installations, s",
            _fmt(r["rollout_100k_seconds"], "{:.1f} s"),
            "<= 20 s",
            _verdict(r["rollout_100k_seconds"], (r["rollout_100k_seconds"] or 0) <= 20),
        ),
        (
            "per-chunk time at 100,000 / at 5,000",
            _fmt(r["rollout_chunk_ratio_100k_vs_5k"], "{:.2f}x"),
            "<= 1.5x",
            _verdict(r["rollout_chunk_ratio_100k_vs_5k"], (r["rollout_chunk_ratio_100k_vs_5k"] or 0) <= 1.5),
        ),
        (
            "applying 50,000 due upgrades, s",
            _fmt(r["apply_50k_seconds"], "{:.1f} s"),
            "<= 8 s",
            _verdict(r["apply_50k_seconds"], (r["apply_50k_seconds"] or 0) <= 8),
        ),
        (
            "consent e-mails through SMTP on loopback, per s",
            _fmt(r["emails_per_second"], "{:.0f}/s"),
            ">= 500/s",
            _verdict(r["emails_per_second"], (r["emails_per_second"] or 0) >= 500),
        ),
        (
            "worker peak memory during the 100,000 rollout, MB",
            _fmt(r["worker_peak_rss_mb"], "{:.0f} MB"),
            "<= 250 MB",
            _verdict(r["worker_peak_rss_mb"], (r["worker_peak_rss_mb"] or 0) <= 250),
        ),
    ]
    widths = [max(len(str(row[i])) for row in [("figure", "measured", "goal", "met"), *rows]) for i in range(4)]
    print("\nissue #14: figures and goals")
    for n, row in enumerate([("figure", "measured", "goal", "met"), *rows]):
        print("  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  " + "  ".join("-" * width for width in widths))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--installations", type=int, default=5000, help="installations in the in-process rollout")
    parser.add_argument("--scale-installations", type=int, default=100_000, help="bench/scale.py's rollout size")
    parser.add_argument("--chunk", type=int, default=500, help="rollout chunk size (default 500)")
    parser.add_argument("--listings", type=int, default=10_000, help="listings for the storefront search (10000)")
    parser.add_argument("--searches", type=int, default=200, help="storefront searches to time (default 200)")
    parser.add_argument("--emails", type=int, default=2000, help="consent e-mails to send (default 2000)")
    parser.add_argument("--http-rounds", type=int, default=5, help="portal/floor wrk rounds (default 5)")
    parser.add_argument("--http-seconds", type=int, default=8, help="seconds per wrk run (default 8)")
    parser.add_argument("--skip", action="append", default=[], choices=["http", "scale", "catalogue", "rollouts"])
    args = parser.parse_args()
    _setup()
    from django.db import connection

    from bench import catalogue, rollouts, update_check

    started = time.perf_counter()
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":  # never the test suite's database: a name of the bench's own
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{old_name}"
    test_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    results: dict = {
        "update_check_rps_200": None,
        "floor_rps_200": None,
        "update_check_ratio_200": None,
        "queries_per_update_check": None,
        "not_modified_queries": None,
        "rollout_100k_seconds": None,
        "rollout_chunk_ratio_100k_vs_5k": None,
        "apply_50k_seconds": None,
        "emails_per_second": None,
        "worker_peak_rss_mb": None,
    }
    try:
        print(f"database: {connection.vendor} ({test_name})")
        if "catalogue" not in args.skip:
            search = catalogue.bench_storefront_search(args.listings, args.searches)
            results["storefront_search"] = search
            engine = "full-text (GIN, SearchRank)" if connection.vendor == "postgresql" else "icontains (SQLite)"
            print(f"\nstorefront search  GET /api/v1/apps?q=<word or prefix>  over {search['listings']:,} listings")
            print(
                f"  {engine}: p50 {search['p50']:.1f} ms, p95 {search['p95']:.1f} ms, max {search['max']:.1f} ms "
                f"({search['searches']} searches, {search['queries']} queries each, "
                f"{search['mean_results']:.0f} results on average; search index built in {search['index_seconds']:.2f} s)"
            )
            if search["gin_used"] is not None:
                plans = search["gin_plans"]
                print(
                    f"  the query plans use the GIN index: {'yes' if search['gin_used'] else 'NO'} "
                    f"({plans['with_index']} of the {plans['plans']} count and page queries the API ran "
                    f"for {plans['terms']} of the searched words)"
                )
        sites = update_check.fill()
        counted = update_check.count_queries(sites)
        results["queries_by_site"] = counted["per_site"]
        results["queries_per_update_check"] = counted["max"]
        results["not_modified_queries"] = counted["not_modified"]
        print("\nupdate check  GET /api/v1/sites/{id}/updates  (site token), queries per check by installations:")
        print(
            "  " + ", ".join(f"{k}: {v}" for k, v in counted["per_site"].items()) + f"; 304: {counted['not_modified']}"
        )
        if "http" in args.skip:
            print("  HTTP: skipped")
        elif connection.vendor != "postgresql":
            print("  HTTP: not measured (the floor and gunicorn runs need PostgreSQL: make bench)")
        else:
            site_id, token = sites["200"]
            http = update_check.measure_http(
                _database_url(connection.settings_dict),
                site_id,
                token,
                rounds=args.http_rounds,
                seconds=args.http_seconds,
            )
            results.update(
                update_check_rps_200=http["portal_rps"],
                floor_rps_200=http["floor_rps"],
                update_check_ratio_200=http["ratio"],
                update_check_http=http,
            )
            print(
                f"  HTTP, 200 installations ({http['response_bytes']:,} bytes), gunicorn 1 sync worker each, wrk -c2: "
                f"portal {http['portal_rps']:.0f} req/s, floor {http['floor_rps']:.0f} req/s, "
                f"ratio {http['ratio']:.2f} (median of {len(http['rounds'])} alternating rounds: "
                + ", ".join(f"{x['portal']:.0f}/{x['floor']:.0f}" for x in http["rounds"])
                + f"); 304s: {http['not_modified_rps']:.0f} req/s; Cache-Control: {http['cache_control']}"
            )
        if "rollouts" not in args.skip:
            product, _owner, made = rollouts.build_catalogue(100)
            result = rollouts.bench_rollout(product, made, args.installations, args.chunk)
            results["rollout_in_process"] = {k: v for k, v in result.items() if k != "queries_per_chunk"}
            print(f"\nrollout of one version to {result['installations']} installations (chunks of {result['chunk']})")
            print(f"  offered: {result['upgrades']} automatic upgrades, {result['requests']} consent requests")
            print(
                f"  {result['seconds']:.2f} s, {result['per_second']:.0f} installations/s, {result['chunks']} chunks, "
                f"queries per chunk: {result['queries_per_chunk']}"
            )
            print(
                f"  applying the due upgrades: {result['applied']} in {result['apply_seconds']:.2f} s, "
                f"{result['apply_queries_per_batch']} queries for the final (empty) batch"
            )
            mail = rollouts.bench_emails(args.emails)
            print(
                f"  e-mails to an SMTP server on 127.0.0.1: {mail['received']} received in {mail['seconds']:.2f} s: "
                f"{mail['received'] / mail['seconds'] if mail['seconds'] else 0:.0f} e-mails/s"
            )
        if "scale" not in args.skip:
            scale = _scale(args.scale_installations)
            if scale is None:
                print("\nrollout/apply/e-mails/worker memory at 100,000: not measured (bench/scale.py is not here)")
            else:
                results["scale"] = scale
                for key in (
                    "rollout_100k_seconds",
                    "rollout_chunk_ratio_100k_vs_5k",
                    "apply_50k_seconds",
                    "emails_per_second",
                    "worker_peak_rss_mb",
                ):
                    results[key] = scale.get(key)
    finally:
        creation.destroy_test_db(old_name, verbosity=0)
    results["seconds"] = round(time.perf_counter() - started, 1)
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwritten: {RESULTS.relative_to(ROOT)} ({results['seconds']:.0f} s in all)")


if __name__ == "__main__":
    main()
