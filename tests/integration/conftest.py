"""Real parts for integration tests: a Celery worker process on Redis, and an
SMTP server on 127.0.0.1. They need PostgreSQL (the worker is another process
and must see the test database), so `make test` runs them in its PostgreSQL phase."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from tests.celery_helpers import reset_celery_connections
from tests.integration.processes import ROOT, SmtpServer, database_url, smtp_server_running

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    with smtp_server_running() as server:
        yield server


@pytest.fixture
def celery_worker_process(transactional_db, request: pytest.FixtureRequest) -> Iterator[subprocess.Popen]:
    """A real `celery worker` process on Redis, using the test database.

    The test process stops running tasks eagerly and sends them to Redis; the
    worker picks them up. If the test also uses `smtp_server`, the worker sends
    its e-mails there.
    """
    import redis

    from config.celery import app

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", django_settings.PORTAL_BASE_URL),
    }
    if "smtp_server" in request.fixturenames:
        env["EMAIL_URL"] = request.getfixturevalue("smtp_server").url
    if "live_server" in request.fixturenames:
        env["PORTAL_BASE_URL"] = request.getfixturevalue("live_server").url
    log = open(ROOT / "var" / "test-celery-worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
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
            "-Q",
            django_settings.CELERY_WORKER_QUEUES,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    old = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = REDIS_URL
    reset_celery_connections()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"celery worker exited with {proc.returncode}; see var/test-celery-worker.log")
            if "ready." in (ROOT / "var" / "test-celery-worker.log").read_text():
                break
            time.sleep(0.2)
        else:
            pytest.fail("celery worker did not become ready in 60 s")
        yield proc
    finally:
        app.conf.task_always_eager, app.conf.broker_url = old
        reset_celery_connections()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
