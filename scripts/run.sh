#!/usr/bin/env bash
# Start the portal: a Celery worker and beat beside Django's server, on the
# embedded defaults (SQLite, filesystem broker, e-mail files) unless the
# environment points elsewhere. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# Exported: the portal, the worker and beat build absolute links from HOST and PORT (config/settings/base.py).
export HOST PORT
mkdir -p var/log var/mail var/celery/broker var/celery/processed
# The demo connect listing polls a descriptor the portal serves itself on 127.0.0.1;
# loopback is allowed for this development server only (private ranges stay refused).
export DESCRIPTOR_ALLOW_LOOPBACK=${DESCRIPTOR_ALLOW_LOOPBACK:-on}
# The development settings, with DEBUG on (the settings' own default is off).
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev}
export DJANGO_DEBUG=${DJANGO_DEBUG:-on}
# Links in e-mails (verification, invitations, consent) point at this server.
export PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://$HOST:$PORT}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

queues=$($PY -c "import os; import django; django.setup(); from django.conf import settings; print(settings.CELERY_WORKER_QUEUES)")
.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 -Q "$queues" >var/log/celery-worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel=INFO >var/log/celery-beat.log 2>&1 &
pids+=($!)

cat <<MSG

  App Marketplace portal is starting on http://$HOST:$PORT/

  Vendor portal   http://$HOST:$PORT/portal/        login: vendor / vendor-demo-pass
  Reviewer admin  http://$HOST:$PORT/admin/         login: reviewer / reviewer-demo-pass
  Site admin      http://$HOST:$PORT/upgrades/      login: siteadmin / siteadmin-demo-pass
  Superuser       http://$HOST:$PORT/admin/         login: admin / admin-demo-pass
  Sign up         http://$HOST:$PORT/accounts/signup/  (verification e-mails land in var/mail/)
  Your account    http://$HOST:$PORT/accounts/profile/ (addresses, password, two-factor, sessions, API tokens)
  Invitations     a pending vendor invitation (new.developer@acme.example.com) and a site-admin one
                  (new.admin@customer.example.com): their links are in var/mail/ and in seed_demo's output
  REST API docs   http://$HOST:$PORT/api/docs/
  E-mails are written to var/mail/; worker and beat logs to var/log/.
  Celery worker pid ${pids[0]}, beat pid ${pids[1]}. Ctrl-C stops everything.

MSG
$PY manage.py runserver "$HOST:$PORT"
