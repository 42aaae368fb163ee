"""`make run`'s embedded default: a real Celery worker and beat on kombu's
filesystem broker (no server) do scheduled work against the database."""

import os
import subprocess
import sys

import pytest

from marketplace.models import WorkerHeartbeat
from tests.integration.conftest import ROOT, _database_url, wait_until


@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_on_the_filesystem_broker_record_a_heartbeat(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DATABASE_URL": _database_url(),
        "PORTAL_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
        "WORKER_HEARTBEAT_INTERVAL": "2",
    }
    env.pop("EMAIL_URL", None)
    celery = [sys.executable, "-m", "celery", "-A", "marketplace"]
    worker = subprocess.Popen(
        [*celery, "worker", "--pool=solo", "-Q", "default", "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "worker.log", "w"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    beat = subprocess.Popen(
        [*celery, "beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "beat.log", "w"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    try:
        beat_row = wait_until(lambda: WorkerHeartbeat.objects.filter(name="celery-worker").first(), timeout=60)
        assert beat_row is not None, (tmp_path / "worker.log").read_text()[-2000:]
        assert any((tmp_path / "celery").rglob("*")), "the broker wrote its messages under PORTAL_VAR_DIR"
    finally:
        for proc in (beat, worker):
            proc.terminate()
        for proc in (beat, worker):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
