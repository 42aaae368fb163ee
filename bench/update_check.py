"""The update check (GET /api/v1/sites/{id}/updates with a site token), the hot path of issue #14.

- queries per check, counted in the bench process (Django's test client) for sites with
  1, 10, 200, 1,000 and 10,000 installations, with private listings among them and without;
- queries for an unchanged answer (If-None-Match with the ETag: 304);
- requests per second over HTTP: the portal under gunicorn (one sync worker, the production
  settings module, DEBUG off, its cache on Redis as in production) and the floor
  (bench/floor.py, a plain WSGI function) under the same gunicorn settings (bench/server.py),
  side by side in the same run, measured with `wrk`.
  Rounds alternate portal and floor; the ratio of each round is portal/floor and the median
  ratio is reported, so a machine loaded by other work moves both sides alike.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 10, 200, 1000, 10_000)
PORTAL_PORT, FLOOR_PORT = 8310, 8311
BYSTANDER_SITES = 3000


def fill(max_size: int = max(SIZES)) -> dict[str, tuple[int, str]]:
    """`max_size` listings (every fifth private; schemes rotate; half of the new versions ask for
    a new scope), each with a superseded 1.0.0 and a published 1.1.0; one site per size running
    1.0.0 of the first N listings (allowed on the private ones), a site of 200 public
    listings only, and 3,000 bystander sites of 3 installations each. Returns {label: (site id, raw site token)}."""
    from marketplace.models import HostProduct, Listing, Scope, Vendor
    from upgrades import services
    from upgrades.models import Installation, Site
    from versions.models import Version
    from versions.numbers import parse_version, version_sort_key

    for name, level in [("read:jira-work", 1), ("write:jira-work", 2), ("admin", 4)]:
        Scope.objects.get_or_create(name=name, defaults={"sensitivity": level})
    product, _ = HostProduct.objects.get_or_create(key="jira", defaults={"name": "Jira"})
    vendor = Vendor.objects.create(name="Update Check Vendor", slug="update-check-vendor")
    schemes = ["manual", "connect", "forge", "ocp"]
    listings = Listing.objects.bulk_create(
        (
            Listing(
                key=f"check-{n:05d}",
                name=f"Check App {n}",
                vendor=vendor,
                scheme=schemes[n % 4],
                visibility="private" if n % 5 == 0 else "public",
            )
            for n in range(max_size)
        ),
        batch_size=2000,
    )

    def version(listing, number: str, state: str, scopes: list[str]) -> Version:
        return Version(
            listing=listing,
            number=number,
            sort_key=version_sort_key(parse_version(number)),
            build_number=1 if number == "1.0.0" else 2,
            update_notes="Faster, and fixes.",
            scopes=scopes,
            state=state,
            channel="release",
        )

    old = Version.objects.bulk_create(
        (version(listing, "1.0.0", "superseded", ["read:jira-work"]) for listing in listings), batch_size=2000
    )
    Version.objects.bulk_create(
        (
            version(
                listing, "1.1.0", "published", ["read:jira-work", "write:jira-work"] if n % 2 else ["read:jira-work"]
            )
            for n, listing in enumerate(listings)
        ),
        batch_size=2000,
    )
    AllowedSite = Listing.allowed_sites.through
    sites: dict[str, tuple[int, str]] = {}
    plans = [(str(size), list(range(min(size, max_size)))) for size in SIZES]
    public = [n for n in range(max_size) if n % 5][:200]
    plans.append(("200 public", public))
    for label, indexes in plans:
        site = Site.objects.create(name=f"Update check {label}", host_product=product, host_version="9.4.0")
        Installation.objects.bulk_create(
            (
                Installation(site=site, listing=listings[n], version=old[n], granted_scopes=["read:jira-work"])
                for n in indexes
            ),
            batch_size=2000,
        )
        AllowedSite.objects.bulk_create(
            (AllowedSite(listing_id=listings[n].pk, site_id=site.pk) for n in indexes if n % 5 == 0), batch_size=2000
        )
        _, raw = services.site_token_create(site=site)
        sites[label] = (site.pk, raw)
    # Bystanders: a real portal has thousands of sites, so the planner's statistics (rows per
    # site) look like production's, not like six sites sharing every installation.
    bystanders = Site.objects.bulk_create(
        (Site(name=f"Bystander {n}", host_product=product, host_version="9.4.0") for n in range(BYSTANDER_SITES)),
        batch_size=2000,
    )
    Installation.objects.bulk_create(
        (
            Installation(site=site, listing=listings[(n * 7 + k) % max_size], version=old[(n * 7 + k) % max_size])
            for n, site in enumerate(bystanders)
            for k in range(3)
        ),
        batch_size=2000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return sites


def count_queries(sites: dict[str, tuple[int, str]]) -> dict:
    """Queries of one update check per site (scope catalogue warm), and of a 304."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    per_site, not_modified = {}, 0
    for label, (site_id, raw) in sites.items():
        client = Client(HTTP_AUTHORIZATION=f"Site {raw}")
        url = f"/api/v1/sites/{site_id}/updates"
        first = client.get(url)
        assert first.status_code == 200, first.content[:300]
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        per_site[label] = len(ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert response.status_code == 304, response.status_code
        not_modified = max(not_modified, len(ctx.captured_queries))
    return {"per_site": per_site, "max": max(per_site.values()), "not_modified": not_modified}


def _get(url: str, token: str, etag: str = "") -> tuple[int, bytes, dict]:
    headers = {"Authorization": f"Site {token}"}
    if etag:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


@contextlib.contextmanager
def gunicorn(app: str, port: int, env: dict[str, str]) -> Iterator[str]:
    """A gunicorn with the bench's settings serving `app` on 127.0.0.1:`port`; yields its base URL."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        str(ROOT / "bench" / "server.py"),
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        app,
    ]
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"{app} exited with {process.returncode} before answering")
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (the floor has no /healthz: 404): up
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{app} did not answer on {base}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(url: str, token: str, seconds: int, connections: int = 2, etag: str = "") -> float:
    """Requests per second `wrk` reaches on `url`; refuses a run with errors or other statuses."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Site {token}"]
    if etag:
        command += ["-H", f"If-None-Match: {etag}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failures on {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def _bench_redis_url() -> str:
    from bench.scale import redis_url

    return redis_url()


def measure_http(database_url: str, site_id: int, token: str, *, rounds: int, seconds: int) -> dict:
    """Portal vs floor for one site, both under gunicorn with bench/server.py, alternating rounds."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (scripts/ensure_services.sh)")
    portal_env = {
        "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS_MODULE", "config.settings.production"),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "off",  # plain HTTP on loopback; TLS ends at a proxy in production
        "DATABASE_URL": database_url,
        "API_THROTTLE_AUTHENTICATED": "100000000/minute",  # wrk is one caller asking far above any real rate
        "CELERY_BROKER_URL": "memory://",
        # The cache on Redis, as in production: every request's throttle and token-guessing
        # counters and the scope catalogue are round trips to it, and they belong in the figure.
        "CACHE_URL": _bench_redis_url(),
    }
    floor_env = {"DATABASE_URL": database_url}
    path = f"/api/v1/sites/{site_id}/updates"
    with (
        gunicorn("config.wsgi:application", PORTAL_PORT, portal_env) as portal,
        gunicorn("bench.floor:application", FLOOR_PORT, floor_env) as floor,
    ):
        import json

        status, body, headers = _get(portal + path, token)
        assert status == 200, (status, body[:300])
        floor_status, floor_body, _ = _get(floor + path, token)
        assert floor_status == 200, (floor_status, floor_body[:300])
        mine, theirs = json.loads(body), json.loads(floor_body)
        assert mine["installations"] == theirs["installations"], (mine["installations"], theirs["installations"])
        assert mine["updates_available"] == theirs["updates_available"]
        assert [i["update"]["consent_required"] for i in mine["items"] if i["update"]] == [
            i["update"]["consent_required"] for i in theirs["items"] if i["update"]
        ], "the floor and the portal disagree on consent"
        etag = headers["ETag"]
        assert _get(portal + path, token, etag)[0] == 304
        wrk(portal + path, token, 2)  # warm both
        wrk(floor + path, token, 2)
        portal_rps, floor_rps, ratios = [], [], []
        for _ in range(rounds):
            p = wrk(portal + path, token, seconds)
            f = wrk(floor + path, token, seconds)
            portal_rps.append(p)
            floor_rps.append(f)
            ratios.append(p / f)
        not_modified_rps = wrk(portal + path, token, seconds, etag=etag)
    return {
        "portal_rps": statistics.median(portal_rps),
        "floor_rps": statistics.median(floor_rps),
        "ratio": statistics.median(ratios),
        "rounds": [{"portal": p, "floor": f} for p, f in zip(portal_rps, floor_rps, strict=True)],
        "not_modified_rps": not_modified_rps,
        "response_bytes": len(body),
        "cache_control": headers.get("Cache-Control", ""),
    }
