"""Real parts for integration tests: a Celery worker process on Redis, and an
SMTP server on 127.0.0.1. They need PostgreSQL (the worker is another process
and must see the test database), so `make test` runs them in its PostgreSQL phase."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.celery_helpers import reset_celery_connections

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.messages)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(host="127.0.0.1", port=0)

    class Handler:
        async def handle_DATA(self, smtp, session, envelope):
            server.messages.append(message_from_bytes(envelope.original_content))
            return "250 OK"

    # aiosmtpd checks readiness by connecting to the port it was given, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("integration tests need PostgreSQL: run them through `make test` (DATABASE_URL=postgres://...)")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


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
        "DATABASE_URL": _database_url(),
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


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy (work done by another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()
