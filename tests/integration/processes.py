"""For tests whose work is done by other processes (a Celery worker, beat): the directory
they run in, the test database's URL they connect to, and waiting until the work is done;
and a real SMTP server on 127.0.0.1 (integration and browser tests read their e-mails from it)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("integration tests need PostgreSQL: run them through `make test` (DATABASE_URL=postgres://...)")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy (work done by another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A private redis-server on 127.0.0.1 (no persistence), so a test may restart it
    without touching the Redis other tests and engineers share."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import shutil
        import subprocess

        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run `make services`")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        if not wait_until(lambda: _pings(client), timeout=15, interval=0.05):
            pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self) -> None:
        """Kill it (what it held in memory is lost, like a crash) and start it again on the same port."""
        self.stop()
        self.start()
        self.restarts += 1


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


class CeleryProcess:
    """A `celery worker` or `celery beat` process that a test can SIGKILL and start again."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path, ready: str) -> None:
        self.args, self.env, self.log, self.ready = args, env, log, ready
        self.proc = None
        self.kills = 0
        self._log_file = None

    def start(self, timeout: float = 60.0) -> None:
        import subprocess
        import sys

        if self._log_file is not None:
            self._log_file.close()
        self._log_file = open(self.log, "a")  # noqa: SIM115 - closed in stop()
        offset = self.log.stat().st_size
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"celery {self.args[0]} exited with {self.proc.returncode}; see {self.log}")
            with open(self.log) as f:
                f.seek(offset)
                if self.ready in f.read():
                    return
            time.sleep(0.1)
        pytest.fail(f"celery {self.args[0]} was not ready in {timeout:.0f} s; see {self.log}")

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (Linux /proc), 0 when it is not running."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0.0
        line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "VmHWM: 0 kB")
        return int(line.split()[1]) / 1024

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, open transactions cut off."""
        import signal

        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.kills += 1
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


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


@contextlib.contextmanager
def smtp_server_running() -> Iterator[SmtpServer]:
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
