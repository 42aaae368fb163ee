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


def clean_env(tmp_path, settings_module="config.settings.dev", **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "EMAIL_", "PORTAL_")) and k not in ("HOST", "PORT")
    }
    return clean | {"DJANGO_SETTINGS_MODULE": settings_module, "PORTAL_VAR_DIR": str(tmp_path)} | env


def probe(tmp_path, settings_module="config.settings.dev", **env):
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean_env(tmp_path, settings_module, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def production_example() -> dict[str, str]:
    """The production block of .env.example (commented lines between its two markers)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    start = lines.index("# --- production example (begin) ---")
    end = lines.index("# --- production example (end) ---")
    values = {}
    for line in lines[start + 1 : end]:
        text = line.removeprefix("# ").strip()
        if "=" in text and not text.startswith("#"):
            key, _, value = text.partition("=")
            values[key] = value
    return values


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


def test_debug_is_off_unless_the_environment_turns_it_on(tmp_path):
    off = probe(tmp_path)
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["debug"] is False
    on = probe(tmp_path, DJANGO_DEBUG="on")
    assert json.loads(on.stdout)["debug"] is True


def test_shared_settings_have_no_secret_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; django.setup(); settings.SECRET_KEY"],
        cwd=ROOT,
        env=clean_env(tmp_path, "config.settings.base"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY setting must not be empty" in result.stderr


def test_production_requires_a_secret_key(tmp_path):
    result = probe(tmp_path, "config.settings.production", DJANGO_ALLOWED_HOSTS="portal.example")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    ok = probe(
        tmp_path, "config.settings.production", DJANGO_ALLOWED_HOSTS="portal.example", DJANGO_SECRET_KEY="x" * 50
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["debug"] is False


def test_check_deploy_is_clean_with_the_production_example(tmp_path):
    example = production_example()
    assert "DJANGO_SECRET_KEY" in example and "DATABASE_URL" in example
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(tmp_path, "config.settings.production", **example),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_links_follow_the_servers_port_unless_the_base_url_is_set(tmp_path):
    show = "import django; from django.conf import settings; django.setup(); print(settings.PORTAL_BASE_URL)"

    def base_url(**env):
        result = subprocess.run(
            [sys.executable, "-c", show],
            cwd=ROOT,
            env=clean_env(tmp_path, **env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert base_url() == "http://127.0.0.1:8000"
    assert base_url(PORT="8200") == "http://127.0.0.1:8200"
    assert base_url(PORT="8200", PORTAL_BASE_URL="https://market.example.com/") == "https://market.example.com"
