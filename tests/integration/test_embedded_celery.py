"""`make run`'s embedded default: a real Celery worker and beat on kombu's
filesystem broker (no server) do scheduled work against the database."""

import os
import subprocess
import sys

import pytest

from core.models import WorkerHeartbeat
from tests.integration.processes import ROOT, database_url, wait_until


def _stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_on_the_filesystem_broker_record_a_heartbeat(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database_url(),
        "PORTAL_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
        "WORKER_HEARTBEAT_INTERVAL": "2",
    }
    env.pop("EMAIL_URL", None)
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    with open(tmp_path / "worker.log", "w") as worker_log, open(tmp_path / "beat.log", "w") as beat_log:
        worker = subprocess.Popen(
            [*celery, "worker", "--pool=solo", "-Q", "default", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        beat = subprocess.Popen(
            [*celery, "beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")],
            cwd=ROOT,
            env=env,
            stdout=beat_log,
            stderr=subprocess.STDOUT,
        )
        try:
            row = wait_until(lambda: WorkerHeartbeat.objects.filter(name="celery-worker").first(), timeout=60)
        finally:
            _stop(beat, worker)
    assert row is not None, (tmp_path / "beat.log").read_text()[-2000:] + (tmp_path / "worker.log").read_text()[-2000:]
    assert (tmp_path / "celery" / "broker").is_dir()
