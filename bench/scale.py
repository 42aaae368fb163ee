"""`python -m bench.scale`: rollouts, applying and consent e-mails at full size, in real worker processes.

The scale figures of issue #14, measured on PostgreSQL (DATABASE_URL) and Redis
(BENCH_REDIS_URL, else TEST_REDIS_URL, else redis://127.0.0.1:6379/15; the
Redis database is emptied first: give the bench one of its own):

- a throw-away database `bench_scale_<name>` is made next to DATABASE_URL's,
  migrated, and filled with SQL: N sites (one admin each, every tenth with a
  maintenance window in its own time zone) with one listing installed on all
  of them, and a second listing on the first 5,000; half of the installations
  never granted the new version's scope, so they need consent;
- the rollout of the new version to 5,000 installations, then to N, each
  started by its task and run by a real `celery worker` (solo pool, the
  `rollouts` queue) chunk after chunk, as in production. Timed from the start
  message to the rollout's completion; per-chunk times are the worker's own
  ("succeeded in ...") lines; `rollout_chunk_ratio_100k_vs_5k` compares the
  median chunk of the big rollout with the median chunk of the 5,000 one;
- the worker's peak resident memory (VmHWM in /proc/<pid>/status) once the big
  rollout is done: the worker runs with DEBUG off, as in production;
- the consent e-mails of the big rollout's requests (one per request and
  admin: N/2), sent by a second worker (the `email` queue) to a real SMTP
  server (aiosmtpd) on 127.0.0.1; every message is checked: none lost, none
  doubled (Message-IDs against the outbox rows);
- applying the big rollout's automatic upgrades (N/2), made due all at once,
  by the rollouts worker.

The rollouts worker runs with UPGRADE_AUTO_WINDOW_HOURS=1, so upgrades are
spread over the next hour instead of being applied between the chunks:
rollout and applying are timed apart.

`run(installations)` returns the figures as a dict; `python -m bench.scale`
prints them (and writes them as JSON with --json PATH). Takes 4-7 minutes at
100,000 on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL_ROLLOUT = 5000
GOALS = {
    "rollout_100k_seconds": ("<=", 20.0),
    "rollout_chunk_ratio_100k_vs_5k": ("<=", 1.5),
    "apply_50k_seconds": ("<=", 8.0),
    "emails_per_second": (">=", 500.0),
    "worker_peak_rss_mb": ("<=", 250.0),
}
CHUNK_LINE = re.compile(r"Task upgrades\.tasks\.rollout_process\[[^\]]+\] succeeded in ([0-9.]+)s: (\d+)")
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def _setup(broker: str) -> None:
    """Django with the test settings (DEBUG off) whose Celery app sends to Redis."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["CELERY_BROKER_URL"] = broker
    import django

    django.setup()
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = broker
    # A caller (bench/__main__) may have published to another broker before: forget its pools.
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("bench.scale needs PostgreSQL: set DATABASE_URL=postgres://...")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


# --- the data ------------------------------------------------------------------------------


def build_world(installations: int) -> dict[str, Any]:
    """Two listings (manual scheme), each with an old installed version and a new published one;
    sites, admins and installations inserted with SQL (seconds, not minutes)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from marketplace.models import HostProduct, Listing, Scope, Vendor, VendorMembership
    from upgrades.models import SiteAdmin
    from versions.models import Version

    for name, level in [("read:jira-work", 1), ("write:jira-work", 2), ("admin", 4)]:
        Scope.objects.get_or_create(name=name, defaults={"sensitivity": level})
    product, _ = HostProduct.objects.get_or_create(key="jira", defaults={"name": "Jira"})
    vendor = Vendor.objects.create(name="Scale Bench Vendor", slug="scale-bench")
    owner = get_user_model().objects.create_user("scale-owner", "owner@scale.example.com", "x")
    VendorMembership.objects.create(vendor=vendor, user=owner, role="owner")
    made = {}
    for label in ("small", "big"):
        listing = Listing.objects.create(key=f"scale-{label}", name=f"Scale {label}", vendor=vendor, scheme="manual")
        old = Version(listing=listing, number="1.0.0", build_number=1, update_notes="First.", scopes=[])
        old.__dict__["state"] = "superseded"
        old.save()
        # The new version asks for read:jira-work: installations that never granted it need consent.
        new = Version(
            listing=listing, number="1.1.0", build_number=2, update_notes="Second.", scopes=["read:jira-work"]
        )
        new.__dict__["state"] = "published"
        new.save()
        made[label] = (listing, old, new)
    (small, small_old, _), (big, big_old, _) = made["small"], made["big"]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO upgrades_site (name, host_version, time_zone, maintenance_windows, auto_update,
                                       created_at, host_product_id)
            SELECT 'Scale site ' || n, '9.4.0',
                   CASE WHEN n %% 10 = 0 THEN 'Europe/Berlin' ELSE 'UTC' END,
                   CASE WHEN n %% 10 = 0
                        THEN jsonb_build_array(jsonb_build_object('weekday', n %% 7, 'start', '01:00', 'end', '05:00'))
                        ELSE '[]'::jsonb END,
                   true, now(), %s
            FROM generate_series(1, %s) AS n
            """,
            [product.pk, installations],
        )
        cursor.execute("SELECT min(id) FROM upgrades_site WHERE name LIKE 'Scale site %%'")
        first_site = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO upgrades_siteadmin (email, site_id, applied_upgrades)
            SELECT 'admin' || id || '@scale.example.com', id, %s FROM upgrades_site WHERE id >= %s
            """,
            [str(SiteAdmin._meta.get_field("applied_upgrades").default), first_site],
        )
        # One statement, site by site: the two listings' installation ids interleave, as in life.
        cursor.execute(
            """
            INSERT INTO upgrades_installation (granted_scopes, license, state, installed_at, updated_at, listing_id,
                                               site_id, version_id, disabled_reason, app_status, shared_secret)
            SELECT CASE WHEN (s.id - %(first)s) %% 2 = 1 THEN '["read:jira-work"]'::jsonb ELSE '[]'::jsonb END,
                   'free', 'active', now(), now(), l.listing_id, s.id, l.version_id, '', '', ''
            FROM upgrades_site s
            CROSS JOIN (VALUES (%(small)s, %(small_old)s, 0), (%(big)s, %(big_old)s, 1)) AS l(listing_id, version_id, o)
            WHERE s.id >= %(first)s AND (l.listing_id = %(big)s OR s.id < %(first)s + %(small_size)s)
            ORDER BY s.id, l.o
            """,
            {
                "first": first_site,
                "small": small.pk,
                "small_old": small_old.pk,
                "big": big.pk,
                "big_old": big_old.pk,
                "small_size": min(SMALL_ROLLOUT, installations),
            },
        )
        cursor.execute("ANALYZE")
    return made


# --- processes -----------------------------------------------------------------------------


class Worker:
    """A `celery worker` process (solo pool: the process that does the work is the one measured)."""

    def __init__(self, name: str, queues: str, env: dict[str, str], logdir: Path) -> None:
        self.log = logdir / f"scale-worker-{name}.log"
        self.log.write_text("")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"scale-{name}@%h",
                "-Q",
                queues,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: "ready." in self.log.read_text() or self.proc.poll() is not None, 90, "worker start")
        if self.proc.poll() is not None:
            raise RuntimeError(f"celery worker {name} exited: see {self.log}")

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def chunk_times(self, offset: int) -> list[float]:
        """The worker's own time for each rollout chunk logged after `offset` (the last, empty one left out)."""
        with self.log.open() as f:
            f.seek(offset)
            return [float(s) for s, n in CHUNK_LINE.findall(f.read()) if int(n) > 0]

    def log_size(self) -> int:
        return self.log.stat().st_size

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _wait(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"bench.scale: {what} did not finish within {timeout:.0f} s")


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps each message's Message-ID and arrival time."""

    def __init__(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
        self.message_ids: list[bytes] = []
        self.last_at = 0.0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                found = MESSAGE_ID.search(envelope.content)
                with sink.lock:
                    sink.message_ids.append(found.group(1) if found else b"")
                    sink.last_at = time.monotonic()
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


# --- the measurements ----------------------------------------------------------------------


def measure_rollout(worker: Worker, version_id: int, timeout: float) -> dict[str, Any]:
    from upgrades import tasks
    from upgrades.models import Rollout

    offset = worker.log_size()
    started = time.monotonic()
    tasks.rollout_start_task.delay(version_id)
    state = _wait(
        lambda: (
            Rollout.objects.filter(version_id=version_id, state="completed").values_list("state", flat=True).first()
        ),
        timeout,
        f"the rollout of version {version_id}",
    )
    elapsed = time.monotonic() - started
    rollout = Rollout.objects.get(version_id=version_id)
    time.sleep(0.3)  # the completing chunk's log line
    chunks = worker.chunk_times(offset)
    return {
        "seconds": elapsed,
        "state": state,
        "targeted": rollout.targeted,
        "chunks": len(chunks),
        "chunk_median": statistics.median(chunks) if chunks else 0.0,
        "chunk_mean": statistics.mean(chunks) if chunks else 0.0,
        "chunk_first10": statistics.mean(chunks[:10]) if chunks else 0.0,
        "chunk_last10": statistics.mean(chunks[-10:]) if chunks else 0.0,
        "rollout_id": rollout.pk,
    }


def measure_emails(env: dict[str, str], logdir: Path, rollout_id: int, timeout: float) -> dict[str, Any]:
    import redis

    from upgrades import tasks
    from upgrades.models import SentEmail

    rows = SentEmail.objects.filter(kind=SentEmail.Kind.CONSENT, request__rollout_id=rollout_id)
    expected = rows.count()
    # Only the big rollout's consent e-mails are measured: the rest of the outbox is set aside.
    SentEmail.objects.filter(state=SentEmail.State.QUEUED).exclude(pk__in=rows.values("pk")).update(
        state=SentEmail.State.SKIPPED, outcome="bench.scale: not measured"
    )
    # The chunks queued a send_outbox message each; drop them and start the clock with one of ours.
    redis.Redis.from_url(env["CELERY_BROKER_URL"]).delete("email")
    sink = SmtpSink()
    worker = Worker("email", "email", {**env, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"}, logdir)
    try:
        started = time.monotonic()
        tasks.send_outbox.delay()
        _wait(lambda: len(sink.message_ids) >= expected, timeout, f"{expected} e-mails", interval=0.2)
        elapsed = sink.last_at - started
        time.sleep(1.0)  # anything more (a double) would arrive now
        _wait(lambda: not rows.filter(state=SentEmail.State.QUEUED).exists(), 30, "marking the e-mails sent")
    finally:
        worker.stop()
        sink.stop()
    received = list(sink.message_ids)
    outbox = set(rows.filter(state=SentEmail.State.SENT).values_list("message_id", flat=True))
    got = {m.decode() for m in received}
    return {
        "expected": expected,
        "received": len(received),
        "distinct": len(got),
        "lost": len(outbox - got) + (expected - len(outbox)),
        "doubled": len(received) - len(got),
        "seconds": elapsed,
        "per_second": len(received) / elapsed if elapsed else 0.0,
    }


def measure_apply(rollout_id: int, timeout: float) -> dict[str, Any]:
    from django.utils import timezone

    from upgrades import tasks
    from upgrades.models import Upgrade, UpgradeState

    upgrades = Upgrade.objects.filter(rollout_id=rollout_id)
    marked = timezone.now()
    due = upgrades.filter(state=UpgradeState.SCHEDULED).update(due_at=marked)
    started = time.monotonic()
    tasks.upgrade_apply_due.delay()
    _wait(lambda: not upgrades.filter(state=UpgradeState.SCHEDULED).exists(), timeout, f"applying {due} upgrades")
    elapsed = time.monotonic() - started
    return {
        "due": due,
        "applied": upgrades.filter(state=UpgradeState.APPLIED, applied_at__gte=marked).count(),
        "seconds": elapsed,
    }


def run(installations: int = 100_000) -> dict[str, Any]:
    """Build the world in a throw-away database, run every measurement, drop the database."""
    broker = redis_url()
    _setup(broker)
    import redis
    from django.db import connection

    redis.Redis.from_url(broker).flushdb()
    logdir = ROOT / "var" / "bench"
    logdir.mkdir(parents=True, exist_ok=True)
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    old_test = dict(connection.settings_dict.get("TEST") or {})
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_scale_{old_name}"
    began = time.monotonic()
    creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    workers: list[Worker] = []
    try:
        made = build_world(installations)
        built = time.monotonic() - began
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "UPGRADE_AUTO_WINDOW_HOURS": "1",
        }
        rollouts = Worker("rollouts", "rollouts", env, logdir)
        workers.append(rollouts)
        small = measure_rollout(rollouts, made["small"][2].pk, timeout=120)
        big = measure_rollout(rollouts, made["big"][2].pk, timeout=600)
        rss_rollout = rollouts.peak_rss_mb()
        mail = measure_emails(env, logdir, big["rollout_id"], timeout=400)
        applied = measure_apply(big["rollout_id"], timeout=300)
        rss_apply = rollouts.peak_rss_mb()
    finally:
        for worker in workers:
            worker.stop()
        connection.close()
        creation.destroy_test_db(old_name, verbosity=0)
        connection.settings_dict["TEST"] = old_test
    return {
        "installations": installations,
        "rollout_100k_seconds": round(big["seconds"], 2),
        "rollout_per_second": round(installations / big["seconds"]) if big["seconds"] else 0,
        "rollout_chunk_ratio_100k_vs_5k": round(big["chunk_median"] / small["chunk_median"], 2)
        if small["chunk_median"]
        else None,
        "rollout_chunk_median_seconds": {"5k": round(small["chunk_median"], 4), "big": round(big["chunk_median"], 4)},
        "rollout_chunk_mean_seconds": {"5k": round(small["chunk_mean"], 4), "big": round(big["chunk_mean"], 4)},
        "rollout_chunk_first10_last10_seconds": [round(big["chunk_first10"], 4), round(big["chunk_last10"], 4)],
        "rollout_chunks": {"5k": small["chunks"], "big": big["chunks"]},
        "rollout_5k_seconds": round(small["seconds"], 2),
        "rollout_targeted": big["targeted"],
        "apply_50k_seconds": round(applied["seconds"], 2),
        "apply_due": applied["due"],
        "apply_applied": applied["applied"],
        "emails_per_second": round(mail["per_second"]),
        "emails": {k: mail[k] for k in ("expected", "received", "distinct", "lost", "doubled")},
        "emails_seconds": round(mail["seconds"], 2),
        "worker_peak_rss_mb": round(rss_rollout, 1),
        "worker_peak_rss_mb_after_apply": round(rss_apply, 1),
        "setup_seconds": round(built, 1),
        "load_average": os.getloadavg(),
    }


def print_table(result: dict[str, Any]) -> None:
    n = result["installations"]
    print(f"scale figures ({n:,} installations; load average {', '.join(f'{x:.1f}' for x in result['load_average'])})")
    print(f"{'figure':<34} {'measured':>10} {'goal':>10}")
    for key, (op, goal) in GOALS.items():
        value = result[key]
        ok = value is not None and (value <= goal if op == "<=" else value >= goal)
        print(f"{key:<34} {value!s:>10} {op + ' ' + str(goal):>10}  {'ok' if ok else 'MISSED'}")
    print(
        f"  rollout: {result['rollout_targeted']:,} offered in {result['rollout_100k_seconds']} s "
        f"({result['rollout_per_second']:,}/s); median chunk {result['rollout_chunk_median_seconds']} s, "
        f"first/last 10 chunks {result['rollout_chunk_first10_last10_seconds']} s, chunks {result['rollout_chunks']}"
    )
    print(f"  applying: {result['apply_applied']:,} of {result['apply_due']:,} due upgrades applied")
    print(f"  e-mails: {result['emails']} in {result['emails_seconds']} s")
    print(f"  worker peak RSS after applying too: {result['worker_peak_rss_mb_after_apply']} MB")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--installations", type=int, default=100_000, help="installations of the big rollout")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    result = run(args.installations)
    print_table(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
