"""gunicorn.conf.py reads its settings from the environment (the production profile, `make serve`)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
VARIABLES = (
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_PRELOAD",
    "GUNICORN_MAX_REQUESTS",
    "FORWARDED_ALLOW_IPS",
    "LOG_FORMAT",
    "LOG_LEVEL",
)


@pytest.fixture
def conf(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def load(**env: str) -> dict:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONF))

    return load


def test_defaults_scale_with_the_cpu_count(conf, monkeypatch):
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 4)
    settings = conf()
    assert settings["workers"] == 9 and settings["worker_class"] == "sync"
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert settings["timeout"] == 30 and settings["graceful_timeout"] == 30
    assert settings["preload_app"] is True
    assert settings["accesslog"] == "-" and "request_id=%({x-request-id}o)s" in settings["access_log_format"]
    assert settings["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert "logconfig_dict" not in settings
    assert settings["control_socket_disable"] is True


def test_the_environment_overrides(conf):
    settings = conf(
        HOST="0.0.0.0",
        PORT="9000",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="60",
        GUNICORN_PRELOAD="off",
        FORWARDED_ALLOW_IPS="10.0.0.0/8",
    )
    assert settings["bind"] == ["0.0.0.0:9000"] and settings["workers"] == 3
    assert settings["threads"] == 4 and settings["worker_class"] == "gthread"
    assert settings["timeout"] == 60 and settings["preload_app"] is False
    assert settings["forwarded_allow_ips"] == "10.0.0.0/8"


def test_json_logs_use_the_portals_formatter(conf):
    logging = conf(LOG_FORMAT="json")["logconfig_dict"]
    assert logging["formatters"]["json"]["()"] == "core.logging.JsonFormatter"
    assert logging["loggers"]["gunicorn.access"]["handlers"] == ["stdout"]
    assert logging["loggers"]["gunicorn.access"]["propagate"] is False
