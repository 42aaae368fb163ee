"""The production profile, booted the way `make serve` boots it (scripts/serve.sh): gunicorn,
one Celery worker per queue group and beat, with config.settings.production, on a PostgreSQL
database of its own and a private Redis server, on a port of its own. Then a smoke test
through it, as a TLS-terminating proxy would talk to it: health and readiness, signing in,
an update check with a site token, and a published version reaching a site. Every process is
stopped at the end (Ctrl-C, as a person would), and killed if it does not stop.

The test process only talks HTTP to the profile and runs `manage.py shell` in the profile's
environment to set up data and publish; it never touches the profile's database itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.integration.processes import ROOT, RedisServer, free_port, wait_until

BOOT_TIMEOUT = 300  # migrations on an empty database and six processes starting, on a loaded machine
STEP_TIMEOUT = 120
STOP_TIMEOUT = 90


def _admin_url() -> tuple[str, str]:
    """The PostgreSQL server the suite runs on (DATABASE_URL), and a database name of the profile's own."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.fail(
            "the production profile needs PostgreSQL: run with DATABASE_URL=postgres://... (make test-postgres)"
        )
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'marketplace'}_profile"
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path=f"/{name}"))


def _drop_and_create(admin_url: str, name: str, *, create: bool) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture
def profile_database() -> Iterator[str]:
    admin_url, url = _admin_url()
    name = urlsplit(url).path.lstrip("/")
    _drop_and_create(admin_url, name, create=True)
    try:
        yield url
    finally:
        _drop_and_create(admin_url, name, create=False)


@pytest.fixture
def profile_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Profile:
    proc: subprocess.Popen
    base_url: str
    env: dict[str, str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def started_pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in re.findall(r"serve: started (\S+) \(pid (\d+)\)", self.output())}

    def shell(self, code: str) -> dict:
        """Run Python in the profile's environment (its settings, database and broker); it prints one JSON line."""
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env={**self.env, "DJANGO_SETTINGS_MODULE": "config.settings.production", "LOG_FORMAT": "text"},
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def stop(self) -> tuple[int | None, list[int]]:
        """Ctrl-C, as a person at the terminal would; whatever still runs afterwards is killed.

        Returns serve.sh's exit status and the processes that had to be killed.
        """
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT)
        code = self.proc.poll()
        # serve.sh leads the session it was started in, and everything it started (gunicorn's and
        # Celery's children included) stays in that session: kill what is left of it, nothing else.
        killed = [pid for pid in _session_members(self.proc.pid) if not _zombie(pid)]
        for pid in killed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        return code, killed


def _session_members(session: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == session:
                    members.append(int(entry.name))
    return members


@pytest.fixture
def profile(tmp_path: Path, profile_database: str, profile_redis: RedisServer) -> Iterator[Profile]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env = {
        **inherited,
        # What `make serve` needs (scripts/serve.sh refuses without them) ...
        "DATABASE_URL": profile_database,
        "CELERY_BROKER_URL": profile_redis.url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PORTAL_BASE_URL": f"https://127.0.0.1:{port}",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PY": sys.executable,
        "LOG_FORMAT": "json",
        # ... this test stands in for the proxy that terminates TLS: it sends X-Forwarded-Proto
        # from 127.0.0.1 (gunicorn's forwarded_allow_ips) over plain HTTP. Its cookie jar keeps
        # Secure cookies back on plain HTTP, so the cookies alone are not marked Secure here.
        "DJANGO_SECURE_PROXY_SSL_HEADER": "on",
        "DJANGO_SESSION_COOKIE_SECURE": "off",
        "DJANGO_CSRF_COOKIE_SECURE": "off",
        # Small: the whole suite shares this machine.
        "WEB_CONCURRENCY": "2",
        "CELERY_WORKER_CONCURRENCY": "1",
        "SERVE_STOP_TIMEOUT": "40",
    }
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Profile(proc=proc, base_url=base_url, env=env, log=log)
    try:
        if not wait_until(lambda: proc.poll() is not None or _answers(f"{base_url}/healthz"), timeout=BOOT_TIMEOUT):
            pytest.fail(f"the profile did not answer /healthz in {BOOT_TIMEOUT} s:\n{running.output()[-4000:]}")
        if proc.poll() is not None:
            pytest.fail(f"scripts/serve.sh exited with {proc.returncode}:\n{running.output()[-4000:]}")
        yield running
    finally:
        running.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


SETUP = """
import json
from django.contrib.auth import get_user_model
from tests.factories import HostProductFactory, ListingFactory, MembershipFactory, SiteFactory, UserFactory, VersionFactory
from upgrades import services

User = get_user_model()
vendor_user = UserFactory(username="smoke-vendor", email="smoke-vendor@example.com", password="smoke-vendor-pass-1")
membership = MembershipFactory(user=vendor_user, role="owner")
User.objects.create_superuser("smoke-admin", "smoke-admin@example.com", "smoke-admin-pass-1")
listing = ListingFactory(vendor=membership.vendor, key="smoke-calendar", name="Smoke Calendar")
v1 = VersionFactory(listing=listing, number="1.0.0", state="published")
v2 = VersionFactory(listing=listing, number="1.1.0", state="approved")
site = SiteFactory(name="Smoke Jira", host_product=HostProductFactory(key="jira", name="Jira"))
_, token = services.site_token_create(site=site, name="smoke instance")
installation = services.installation_create(site=site, listing=listing, version=v1)
print(json.dumps({"site": site.pk, "token": token, "installation": installation.pk, "v2": v2.pk}))
"""

PUBLISH = """
import json
from django.contrib.auth import get_user_model
from versions.models import Version
from versions.services import version_publish

version = version_publish(version=Version.objects.get(pk={v2}), actor=get_user_model().objects.get(username="smoke-admin"))
print(json.dumps({{"state": version.state}}))
"""


def test_the_production_profile_serves_signs_in_checks_updates_and_rolls_out(profile):
    started = profile.started_pids()
    assert set(started) == {"web", "worker[default]", "worker[email]", "worker[polling]", "worker[rollouts]", "beat"}
    proxy = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=profile.base_url, timeout=30) as client:
        # Health and readiness answer a load balancer's plain-HTTP probe (no redirect to HTTPS);
        # readiness waits for the heartbeat beat sends through a worker as it starts.
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        ready = wait_until(lambda: (r := client.get("/readyz")).status_code == 200 and r, timeout=STEP_TIMEOUT)
        assert ready, f"/readyz never answered 200: {client.get('/readyz').text}"
        checks = ready.json()["checks"]
        assert checks["database"]["ok"] and checks["broker"] == {"ok": True, "transport": "redis"}
        assert checks["worker"]["ok"] and checks["worker"]["age_seconds"] <= checks["worker"]["max_age_seconds"]
        # Any other page over plain HTTP is sent to HTTPS (production's SECURE_SSL_REDIRECT).
        assert client.get("/accounts/login/").status_code == 301

        data = profile.shell(SETUP)

        # Signing in through allauth's form (its CSRF token included), then a page that needs it.
        client.headers.update(proxy)
        form = client.get("/accounts/login/")
        assert form.status_code == 200
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        signed_in = client.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": csrf, "login": "smoke-vendor", "password": "smoke-vendor-pass-1"},
            headers={"Referer": f"https://127.0.0.1:{profile.env['PORT']}/accounts/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text[:2000]
        dashboard = client.get("/portal/")
        assert dashboard.status_code == 200 and "Smoke Calendar" in dashboard.text

        # The update check with the site's token: 1.0.0 installed, nothing newer released yet.
        site_api = httpx.Client(
            base_url=profile.base_url, timeout=30, headers={**proxy, "Authorization": f"Site {data['token']}"}
        )
        with site_api:
            check = site_api.get(f"/api/v1/sites/{data['site']}/updates")
            assert check.status_code == 200, check.text
            [item] = check.json()["items"]
            assert item["installed"]["number"] == "1.0.0" and item["update"] is None

            # Publishing 1.1.0 (no new scope, automatic updates on) reaches the site through the
            # rollouts worker: the installation is upgraded and the update check says so.
            assert profile.shell(PUBLISH.format(v2=data["v2"])) == {"state": "published"}

            def upgraded():
                answer = site_api.get(f"/api/v1/sites/{data['site']}/updates")
                return answer.status_code == 200 and answer.json()["items"][0]["installed"]["number"] == "1.1.0"

            assert wait_until(upgraded, timeout=STEP_TIMEOUT, interval=1.0), profile.output()[-4000:]
            assert site_api.get(f"/api/v1/sites/{data['site']}/updates").json()["items"][0]["update"] is None

    # Structured logs from each kind of process: gunicorn's access lines and Django's with the
    # request's id, and the Celery worker's lines with the task they belong to.
    lines = [json.loads(line) for line in profile.output().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access" and line.get("path") == "/readyz"]
    assert access and all(line["request_id"] and line["status"] in (200, 503) for line in access)
    assert any(line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines)
    rollout_lines = [line for line in lines if line.get("task_name", "").startswith("upgrades.tasks.rollout")]
    assert rollout_lines and all(line["task_id"] for line in rollout_lines)
    assert any(line["logger"] == "celery.beat" for line in lines)

    # Ctrl-C stops everything it started, each process in its own time: nothing is left to kill.
    code, killed = profile.stop()
    assert code == 0 and killed == [], profile.output()[-3000:]
    assert "serve: stopped" in profile.output()
    assert not [name for name, pid in started.items() if not _zombie(pid)]


def _zombie(pid: int) -> bool:
    """Exited, not yet reaped by its parent: not running."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def test_make_serve_refuses_without_postgresql_and_redis(tmp_path):
    # An empty env file stands in for the checkout's .env (a developer's may set everything).
    no_env = tmp_path / "empty.env"
    no_env.write_text("")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PY": sys.executable, "SERVE_ENV_FILE": str(no_env)}
    missing = subprocess.run(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2
    assert "refused: DATABASE_URL is not set" in missing.stderr
    assert "refused: CELERY_BROKER_URL is not set" in missing.stderr
    wrong = subprocess.run(
        ["bash", "scripts/serve.sh"],
        cwd=ROOT,
        env={
            **env,
            "DATABASE_URL": "sqlite:///var/db.sqlite3",
            "CELERY_BROKER_URL": "filesystem://",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "portal.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 2
    assert "names 'sqlite', not PostgreSQL" in wrong.stderr and "not Redis" in wrong.stderr
    assert "applying migrations" not in wrong.stderr  # refused before anything ran
