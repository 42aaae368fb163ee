"""Settings come from the environment: safe embedded defaults, no default secret in production."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'db': settings.DATABASES['default']['ENGINE'], 'name': str(settings.DATABASES['default']['NAME']),"
    " 'broker': settings.CELERY_BROKER_URL, 'email': settings.EMAIL_BACKEND, 'debug': settings.DEBUG}))"
)


def probe(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "EMAIL_"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "marketplace.settings", "PORTAL_VAR_DIR": str(tmp_path)} | env
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_embedded_defaults_need_no_server(tmp_path):
    result = probe(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["db"] == "django.db.backends.sqlite3" and values["name"].startswith(str(tmp_path))
    assert values["broker"] == "filesystem://"
    assert values["email"] == "django.core.mail.backends.filebased.EmailBackend"


def test_environment_moves_the_same_code_to_postgresql_and_redis(tmp_path):
    result = probe(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/marketplace",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["db"] == "django.db.backends.postgresql" and values["broker"] == "redis://127.0.0.1:6379/0"


def test_production_requires_a_secret_key(tmp_path):
    result = probe(tmp_path, DJANGO_DEBUG="off")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    ok = probe(tmp_path, DJANGO_DEBUG="off", DJANGO_SECRET_KEY="x" * 50)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["debug"] is False
