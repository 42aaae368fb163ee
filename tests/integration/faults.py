"""The fault-injection scenario (issues 11 and 19): a rollout to many installations, half of
them needing consent, run by a real Celery worker and beat on a private Redis, PostgreSQL and
a real SMTP server, while the worker is SIGKILLed and restarted, a queue is lost, the
database connections are cut (pg_terminate_backend) and Redis is restarted.

`tests/integration/test_faults.py` runs it small in `make test`; `make faults` runs it at full
size several times and prints a table (FAULT_* environment variables, see `FaultPlan.from_env`).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from tests.factories import HostProductFactory, ListingFactory, MembershipFactory, VersionFactory
from tests.integration.processes import ROOT, CeleryProcess, RedisServer, database_url

# Short intervals so that recovery shows within seconds (production: settings/base.py).
RECOVERY_ENV = {
    "ROLLOUT_CHUNK_SIZE": "100",
    "ROLLOUT_STALL_AFTER": "3",
    "ROLLOUT_WATCH_INTERVAL": "1",
    "UPGRADE_HOUSEKEEPING_INTERVAL": "2",
    "OUTBOX_BATCH_SIZE": "100",
    "OUTBOX_CLAIM_TIMEOUT": "4",
    "OUTBOX_SEND_INTERVAL": "1",
    "OUTBOX_DRAIN_SECONDS": "20",
}


@dataclass
class FaultPlan:
    installations: int = 2000
    kills: int = 3
    lose_queue: bool = True
    terminate_db: bool = True
    restart_redis: bool = False
    bound_seconds: float = 150.0
    seed: int = 0

    @classmethod
    def from_env(cls, **defaults) -> FaultPlan:
        plan = cls(**defaults)
        env = os.environ
        plan.installations = int(env.get("FAULT_INSTALLATIONS", plan.installations))
        plan.kills = int(env.get("FAULT_KILLS", plan.kills))
        plan.terminate_db = env.get("FAULT_TERMINATE_DB", "1" if plan.terminate_db else "0") == "1"
        plan.restart_redis = env.get("FAULT_REDIS_RESTART", "1" if plan.restart_redis else "0") == "1"
        plan.bound_seconds = float(env.get("FAULT_BOUND_SECONDS", plan.bound_seconds))
        plan.seed = int(env.get("FAULT_SEED", plan.seed or random.SystemRandom().randrange(1, 10**6)))
        return plan


@dataclass
class FaultWorld:
    listing: object
    v1: object
    v2: object
    vendor_user: object
    consent_sites: set = field(default_factory=set)
    auto_sites: set = field(default_factory=set)


def build_world(installations: int) -> FaultWorld:
    """Bulk inserts (the setup is not under test): one admin per site; odd sites turned automatic
    updates off, so their installations need consent."""
    from upgrades.models import Installation, Site, SiteAdmin

    membership = MembershipFactory(role="owner")
    listing = ListingFactory(vendor=membership.vendor, name="Fault Calendar", scheme="manual")
    v1 = VersionFactory(listing=listing, number="1.0.0", scopes=["read:jira-work"], state="published")
    product = HostProductFactory(key="jira", name="Jira")
    sites = Site.objects.bulk_create(
        Site(name=f"Fault site {n}", host_product=product, auto_update=n % 2 == 0) for n in range(installations)
    )
    SiteAdmin.objects.bulk_create(SiteAdmin(site=s, email=f"admin{s.pk}@fault.example.com") for s in sites)
    Installation.objects.bulk_create(
        Installation(site=s, listing=listing, version=v1, granted_scopes=["read:jira-work"]) for s in sites
    )
    v2 = VersionFactory(listing=listing, number="1.1.0", scopes=["read:jira-work"], state="approved")
    return FaultWorld(
        listing=listing,
        v1=v1,
        v2=v2,
        vendor_user=membership.user,
        consent_sites={s.pk for s in sites if not s.auto_update},
        auto_sites={s.pk for s in sites if s.auto_update},
    )


@dataclass
class FaultRun:
    plan: FaultPlan
    world: FaultWorld
    finished: bool = False
    seconds: float = 0.0
    kills_during_work: int = 0
    db_terminated: int = 0
    queue_lost: int = 0
    redis_restarts: int = 0
    worker_peak_rss_mb: float = 0.0
    log: list = field(default_factory=list)


def _work_done(world: FaultWorld, smtp) -> bool:
    from upgrades.models import Rollout, SentEmail, Upgrade

    expected = len(world.consent_sites) + len(world.auto_sites)
    return (
        Rollout.objects.filter(version=world.v2, state="completed").exists()
        and not Upgrade.objects.filter(to_version=world.v2, state="scheduled").exists()
        and SentEmail.objects.filter(state="sent").count() >= expected
        and not SentEmail.objects.filter(state="queued").exists()
        and len({m["Message-ID"] for m in smtp.messages}) >= expected
    )


def _terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def run_faults(plan: FaultPlan, smtp, workdir: Path) -> FaultRun:
    """Publish, inject the plan's faults at random moments, and wait (up to the bound) for the end."""
    import redis

    from config.celery import app
    from tests.celery_helpers import reset_celery_connections
    from versions.services import version_publish

    rng = random.Random(plan.seed)
    world = build_world(plan.installations)
    run = FaultRun(plan=plan, world=world)
    broker = RedisServer(workdir)
    broker.start()
    env = {
        **os.environ,
        **RECOVERY_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_URL": smtp.url,
    }
    (ROOT / "var").mkdir(exist_ok=True)
    worker = CeleryProcess(
        [
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            "default,email,polling,rollouts",
        ],
        env=env,
        log=ROOT / "var" / "test-fault-worker.log",
        ready="ready.",
    )
    beat = CeleryProcess(
        ["beat", "--loglevel=INFO", "-s", str(workdir / "beat-schedule")],
        env=env,
        log=ROOT / "var" / "test-fault-beat.log",
        ready="beat: Starting",
    )
    old = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = False, broker.url
    reset_celery_connections()
    started = time.monotonic()
    deadline = started + plan.bound_seconds

    def note(what: str) -> None:
        run.log.append(f"{time.monotonic() - started:6.1f}s {what}")

    def pause(low: float, high: float) -> bool:
        """Sleep a random while; False when the work finished meanwhile."""
        until = time.monotonic() + rng.uniform(low, high)
        while time.monotonic() < until:
            if _work_done(world, smtp):
                return False
            time.sleep(0.1)
        return True

    try:
        worker.start()
        beat.start()
        started = time.monotonic()
        deadline = started + plan.bound_seconds
        version_publish(version=world.v2, actor=world.vendor_user)  # autocommit: rollout_start goes to Redis
        faults = ["kill"] * plan.kills
        if plan.terminate_db:
            faults.insert(rng.randrange(len(faults) + 1), "terminate_db")
        if plan.restart_redis:
            faults.insert(rng.randrange(1, len(faults) + 1), "restart_redis")
        spread = max(1.0, plan.installations / 2000)  # bigger runs last longer: spread the faults over them
        for fault in faults:
            if not pause(0.5, 3.0 * spread):
                note(f"work finished before {fault}")
                break
            if fault == "kill":
                run.worker_peak_rss_mb = max(run.worker_peak_rss_mb, worker.peak_rss_mb())
                worker.kill()
                run.kills_during_work += 1
                note("worker SIGKILLed")
                if plan.lose_queue and not run.queue_lost:
                    lost = redis.Redis.from_url(broker.url).llen("rollouts")
                    redis.Redis.from_url(broker.url).delete("rollouts")
                    run.queue_lost = 1
                    note(f"the rollouts queue dropped ({lost} messages)")
                time.sleep(rng.uniform(1.0, 2.0))
                worker.start()
                note("worker restarted")
            elif fault == "terminate_db":
                run.db_terminated += _terminate_other_connections()
                note(f"pg_terminate_backend: {run.db_terminated} connections")
            elif fault == "restart_redis":
                broker.restart()
                reset_celery_connections()
                run.redis_restarts += 1
                note("Redis killed and restarted (its queues lost)")
        while time.monotonic() < deadline:
            if _work_done(world, smtp):
                run.finished = True
                break
            time.sleep(0.2)
        run.seconds = time.monotonic() - started
        run.worker_peak_rss_mb = max(run.worker_peak_rss_mb, worker.peak_rss_mb())
        time.sleep(1.0)  # late duplicates, if any, arrive now and are counted
        note("finished" if run.finished else f"not finished after {plan.bound_seconds:.0f} s")
    finally:
        app.conf.task_always_eager, app.conf.broker_url = old
        reset_celery_connections()
        beat.stop()
        worker.stop()
        broker.stop()
    return run


def figures(run: FaultRun, smtp) -> dict:
    """What the run did, counted in the database and on the SMTP server."""
    from django.db.models import Count, Max, Min

    from core.models import AuditEvent
    from upgrades.models import Installation, SentEmail, Upgrade, UpgradeRequest

    world = run.world
    installations = dict(Installation.objects.filter(listing=world.listing).values_list("pk", "site_id"))
    upgrades = Counter(Upgrade.objects.filter(to_version=world.v2).values_list("installation_id", flat=True))
    requests = Counter(UpgradeRequest.objects.filter(to_version=world.v2).values_list("installation_id", flat=True))
    offers = Counter({pk: upgrades[pk] + requests[pk] for pk in installations})
    applied_ids = list(Upgrade.objects.filter(to_version=world.v2, state="applied").values_list("pk", flat=True))
    apply_rows = (
        AuditEvent.objects.filter(action="upgrade.apply", object_id__in=applied_ids)
        .values("object_id")
        .annotate(n=Count("id"))
    )
    rows = {r.message_id: r for r in SentEmail.objects.all()}
    deliveries = Counter(m["Message-ID"] for m in smtp.messages)
    strangers = [m for m in smtp.messages if m["Message-ID"] not in rows]
    wrong_recipient = [
        m for m in smtp.messages if m["Message-ID"] in rows and m["To"] != rows[m["Message-ID"]].recipient
    ]
    expected = {
        "consent": {f"admin{site}@fault.example.com" for site in world.consent_sites},
        "applied": {f"admin{site}@fault.example.com" for site in world.auto_sites},
    }
    delivered = {kind: Counter() for kind in expected}
    for message_id, row in rows.items():
        if deliveries[message_id]:
            delivered.setdefault(row.kind, Counter())[row.recipient] += 1
    return {
        "installations": len(installations),
        "offered_once": sum(1 for n in offers.values() if n == 1),
        "offered_never": sum(1 for n in offers.values() if n == 0),
        "offered_twice": sum(1 for n in offers.values() if n > 1),
        "requests": sum(requests.values()),
        "applied": len(applied_ids),
        "applied_twice": sum(1 for r in apply_rows if r["n"] > 1),
        "applied_without_row": len(applied_ids) - len(apply_rows),
        "on_v2": Installation.objects.filter(listing=world.listing, version=world.v2).count(),
        "consent_expected": len(expected["consent"]),
        "consent_lost": len(expected["consent"] - set(delivered["consent"])),
        "applied_mail_expected": len(expected["applied"]),
        "applied_mail_lost": len(expected["applied"] - set(delivered["applied"])),
        # Two different messages for one (kind, request or upgrade, recipient): a real double.
        "doubled": sum(1 for c in delivered.values() for n in c.values() if n > 1),
        # The same Message-ID delivered again (a sender killed between the server's 250 and its mark).
        "redelivered": sum(n - 1 for n in deliveries.values() if n > 1),
        "strangers": len(strangers) + len(wrong_recipient),
        "messages": len(smtp.messages),
        # From the first e-mail sent to the last (faults included).
        "emails_per_second": _rate(
            SentEmail.objects.filter(state="sent").aggregate(a=Min("sent_at"), b=Max("sent_at"))
        ),
    }


def _rate(span: dict) -> float:
    from upgrades.models import SentEmail

    if not span["a"] or span["b"] <= span["a"]:
        return 0.0
    return SentEmail.objects.filter(state="sent").count() / (span["b"] - span["a"]).total_seconds()


TABLE = (
    ("run", 4),
    ("faults", 52),
    ("secs", 6),
    ("offered 1x", 10),
    ("applied 1x", 10),
    ("consent mail", 12),
    ("applied mail", 12),
    ("lost", 5),
    ("doubled", 7),
    ("same-ID resent", 14),
    ("mails/s", 7),
    ("RSS MB", 6),
)


def table_header() -> str:
    return " ".join(f"{name:>{width}}" for name, width in TABLE)


def table_row(number: int, run: FaultRun, fig: dict) -> str:
    faults = f"{run.kills_during_work} kills"
    if run.queue_lost:
        faults += ", queue lost"
    if run.db_terminated:
        faults += f", {run.db_terminated} pg conns cut"
    if run.redis_restarts:
        faults += ", Redis restart"
    lost = fig["consent_lost"] + fig["applied_mail_lost"]
    cells = [
        str(number),
        faults,
        f"{run.seconds:.0f}" if run.finished else f">{run.plan.bound_seconds:.0f}",
        f"{fig['offered_once']}/{fig['installations']}",
        f"{fig['applied'] - fig['applied_twice']}/{len(run.world.auto_sites)}",
        f"{fig['consent_expected'] - fig['consent_lost']}/{fig['consent_expected']}",
        f"{fig['applied_mail_expected'] - fig['applied_mail_lost']}/{fig['applied_mail_expected']}",
        str(lost),
        str(fig["doubled"]),
        str(fig["redelivered"]),
        f"{fig['emails_per_second']:.0f}",
        f"{run.worker_peak_rss_mb:.0f}",
    ]
    return " ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, TABLE, strict=True))
