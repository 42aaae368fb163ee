"""gunicorn's settings for the portal (`make serve`, scripts/serve.sh): `gunicorn -c gunicorn.conf.py config.wsgi`.

Everything a deployment changes comes from the environment, so the same file
serves one laptop and a row of web machines behind a load balancer:

  HOST, PORT            where to listen (default 127.0.0.1:8000; 0.0.0.0 behind a load balancer)
  WEB_CONCURRENCY       worker processes (default 2 x CPU cores + 1)
  GUNICORN_THREADS      threads per worker (default 1: sync workers)
  GUNICORN_TIMEOUT      seconds a request may take before its worker is replaced (default 30)
  GUNICORN_GRACEFUL_TIMEOUT  seconds running requests get to finish on a restart or stop (default 30)
  GUNICORN_KEEPALIVE    seconds an idle keep-alive connection from the load balancer stays open (default 5)
  GUNICORN_MAX_REQUESTS a worker is replaced after about this many requests (default 2000; 0 = never)
  GUNICORN_PRELOAD      load Django once in the master and fork (default on)
  FORWARDED_ALLOW_IPS   proxies trusted for X-Forwarded-Proto and friends (default 127.0.0.1,::1)
  LOG_FORMAT=json       access and error lines as JSON (core.logging.JsonFormatter)
  LOG_LEVEL             gunicorn's error log level (default info)
"""

import multiprocessing
import os
from pathlib import Path


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "on" if default else "off").strip().lower() in ("1", "on", "true", "yes")


# --- where and how many ---------------------------------------------------------------
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
# Sync workers spend their time in Python and the database: two per core, plus one for the
# worker that waits on I/O. WEB_CONCURRENCY is the name platforms (Heroku, Render, ...) set.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
proc_name = "marketplace-web"

# --- time limits ----------------------------------------------------------------------
# The longest page (the rollout page, a big CSV) takes a few seconds; a request still running after
# `timeout` is stuck, and its worker is killed and replaced. On SIGTERM (a deploy, Ctrl-C in
# `make serve`) running requests get `graceful_timeout` to finish before their worker is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Longer than nothing, shorter than a load balancer's idle timeout (AWS ALB: 60 s), so the balancer
# never sends a request on a connection gunicorn is closing.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (jittered so they do not all restart at once): slow leaks stay small.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

# --- loading ----------------------------------------------------------------------------
# Django, its apps and its URL patterns are imported once and shared by the forked workers
# (less memory, faster worker restarts). Safe here: Django opens no database connection and
# Celery no broker connection at import time, so no socket is shared across the fork.
preload_app = _flag("GUNICORN_PRELOAD", True)
# The heartbeat file of each worker on a RAM disk where there is one (a slow /tmp stalls workers).
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"
# gunicorn's control socket is a per-user default path: two portals on one machine would share it.
control_socket_disable = not _flag("GUNICORN_CONTROL_SOCKET", False)

# --- behind a proxy -----------------------------------------------------------------------
# Only these addresses may say the request came over HTTPS (X-Forwarded-Proto); Django trusts the
# header too when DJANGO_SECURE_PROXY_SSL_HEADER=on (config/settings/production.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# --- logs -----------------------------------------------------------------------------------
# Both to standard output and error: the supervisor (systemd, a container runtime, scripts/serve.sh)
# collects them. Each access line names the request's id, the same X-Request-ID that Django's lines
# carry (core.middleware.RequestIdMiddleware), and its duration in milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'

if os.environ.get("LOG_FORMAT", "text").lower() == "json":
    # The same formatter as Django and Celery (core/logging.py uses only the standard library,
    # so the master loads it before Django). The access line's atoms become JSON fields.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            # Not propagated: Django's own LOGGING gives the root logger a handler of its own.
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
    }
