"""Beat with a Redis broker (issue 19): it starts in a fresh var/ folder (its schedule file's
folder used to exist only for the filesystem broker) and sends the recovery tasks, and the
broker settings give a visibility timeout longer than the longest task."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.integration.conftest import REDIS_URL
from tests.integration.processes import ROOT, wait_until


@pytest.mark.django_db
def test_beat_on_redis_starts_in_a_fresh_var_folder_and_sends_the_recovery_tasks(tmp_path):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),  # does not exist yet
        "CELERY_BROKER_URL": REDIS_URL,
        "ROLLOUT_WATCH_INTERVAL": "1",
        "OUTBOX_SEND_INTERVAL": "1",
    }
    with open(tmp_path / "beat.log", "w") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            sent = wait_until(lambda: client.llen("default") and client.llen("email"), timeout=30)
            alive = beat.poll() is None
        finally:
            beat.terminate()
            beat.wait(timeout=20)
    output = (tmp_path / "beat.log").read_text()
    assert alive and sent, output[-2000:]
    assert "FileNotFoundError" not in output
    assert list((tmp_path / "var" / "celery").glob("beat-schedule*"))
    client.flushdb()


def test_redis_visibility_timeout_outlasts_the_longest_task():
    """Read from a Redis-broker configuration in a fresh interpreter (the suite runs on memory://)."""
    code = (
        "import django, os; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.CELERY_TASK_TIME_LIMIT, "
        "s.CELERY_TASK_REJECT_ON_WORKER_LOST, s.CELERY_TASK_ACKS_LATE)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "CELERY_BROKER_URL": REDIS_URL}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    visibility, time_limit, reject, acks_late = out.stdout.split()
    assert int(visibility) > int(time_limit) == settings.CELERY_TASK_TIME_LIMIT
    assert (reject, acks_late) == ("True", "True")
