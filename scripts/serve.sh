#!/usr/bin/env bash
# The production profile (`make serve`): gunicorn, one Celery worker per queue group and beat,
# on PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL) with config.settings.production.
# Migrates and collects static files first. Supervises what it started: if one process exits,
# the others are stopped too (a supervisor above, systemd or a container runtime, restarts the
# lot); Ctrl-C or SIGTERM stops them all, each given time to finish what it runs.
#
#   SERVE_ROLES="web worker beat"  what this machine runs (beat on exactly ONE machine; README "Production")
#   SERVE_MIGRATE=on               apply migrations first (off on all but one machine of a deploy)
#   WEB_CONCURRENCY, HOST, PORT    gunicorn (gunicorn.conf.py lists its variables)
#   CELERY_WORKER_CONCURRENCY      processes per worker (default: Celery's, one per CPU core)
#   WORKER_QUEUE_GROUPS            the workers to start (config/settings/base.py)
#   SERVE_STOP_TIMEOUT=40          seconds each process gets to stop before it is killed
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export DJANGO_SETTINGS_MODULE=config.settings.production
SERVE_ROLES=${SERVE_ROLES:-web worker beat}
STOP_TIMEOUT=${SERVE_STOP_TIMEOUT:-40}

say() { echo "serve: $*" >&2; }

# Refuse clearly before anything starts. The variables may come from the environment or from .env
# (read the way config/settings/base.py reads it; SERVE_ENV_FILE names another file); the embedded defaults (SQLite, the filesystem
# broker) are for development and are refused here.
if ! "$PY" - <<'PY'; then
import os
import sys

import environ

environ.Env.read_env(os.environ.get("SERVE_ENV_FILE") or ".env", overwrite=False)
problems = []
database = os.environ.get("DATABASE_URL", "")
broker = os.environ.get("CELERY_BROKER_URL", "")
if not database:
    problems.append("DATABASE_URL is not set: the production profile runs on PostgreSQL, e.g. postgres://marketplace:secret@db.internal:5432/marketplace")
elif database.split("://")[0] not in ("postgres", "postgresql", "pgsql", "psql"):
    problems.append(f"DATABASE_URL names {database.split(':')[0]!r}, not PostgreSQL (postgres://...): SQLite is for development only")
if not broker:
    problems.append("CELERY_BROKER_URL is not set: the production profile's broker is Redis, e.g. redis://redis.internal:6379/0")
elif not broker.startswith(("redis://", "rediss://")):
    problems.append(f"CELERY_BROKER_URL names {broker.split(':')[0]!r}, not Redis (redis:// or rediss://)")
for name, example in (("DJANGO_SECRET_KEY", "50 or more random characters"), ("DJANGO_ALLOWED_HOSTS", "marketplace.example.com")):
    if not os.environ.get(name):
        problems.append(f"{name} is not set ({example}); .env.example's production block lists every variable")
for problem in problems:
    print(f"make serve: refused: {problem}", file=sys.stderr)
sys.exit(2 if problems else 0)
PY
  exit 2
fi

for role in $SERVE_ROLES; do
  case $role in web | worker | beat) ;; *) say "refused: SERVE_ROLES names '$role' (web, worker, beat)"; exit 2 ;; esac
done
has_role() { [[ " $SERVE_ROLES " == *" $1 "* ]]; }

if [[ ${SERVE_MIGRATE:-on} =~ ^(1|on|true|yes)$ ]]; then
  say "applying migrations"
  "$PY" manage.py migrate --noinput
fi
if has_role web; then
  say "collecting static files"
  "$PY" manage.py collectstatic --noinput --verbosity 0
fi
groups=$("$PY" -c "import django; django.setup(); from django.conf import settings; print(' '.join(settings.WORKER_QUEUE_GROUPS))")

# Each process in a process group of its own (job control): Ctrl-C reaches this script only, and
# each process is then stopped once, gracefully (gunicorn finishes its requests, a worker its tasks).
set -m
pids=()
names=()
start() {
  local name=$1
  shift
  "$@" &
  pids+=($!)
  names+=("$name")
  say "started $name (pid $!)"
}

stopping=0
stop_all() {
  [[ $stopping == 1 ]] && return
  stopping=1
  say "stopping ${names[*]}"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + STOP_TIMEOUT))
  for i in "${!pids[@]}"; do
    while kill -0 "${pids[$i]}" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      say "${names[$i]} did not stop in ${STOP_TIMEOUT} s: killed"
      kill -KILL -- "-${pids[$i]}" 2>/dev/null || kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  say "stopped"
}
on_signal() {
  stop_all
  exit 0
}
trap on_signal INT TERM
trap stop_all EXIT

worker_options=(--loglevel=INFO --without-gossip --without-mingle)
if [[ -n ${CELERY_WORKER_CONCURRENCY:-} ]]; then worker_options+=(--concurrency "$CELERY_WORKER_CONCURRENCY"); fi

if has_role web; then
  start web "$PY" -m gunicorn --config gunicorn.conf.py config.wsgi:application
fi
if has_role worker; then
  for group in $groups; do
    # A node name per group (default@host, email@host, ...): unique on this machine and across machines.
    start "worker[$group]" "$PY" -m celery -A config worker -Q "$group" -n "${group%%,*}@%h" "${worker_options[@]}"
  done
fi
if has_role beat; then
  start beat "$PY" -m celery -A config beat --loglevel=INFO
fi
if ((${#pids[@]} == 0)); then
  say "SERVE_ROLES is empty: nothing to run"
  exit 2
fi
say "running ${names[*]}; Ctrl-C stops everything"

# One process ending (a crash, a failed start) ends the profile: stop the rest and say which.
set +e
wait -n "${pids[@]}"
status=$?
set -e
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then say "${names[$i]} (pid ${pids[$i]}) exited with status $status"; fi
done
stop_all
exit $((status == 0 ? 1 : status))
