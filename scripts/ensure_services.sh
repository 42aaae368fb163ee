#!/usr/bin/env bash
# Make sure the real services the test suite talks to are there: PostgreSQL and
# Redis on 127.0.0.1, and Debian's Chromium for the browser tests. Installs and
# starts what is missing (the test machines run as root with apt-get).
set -euo pipefail

need_apt_update=1
apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "ensure_services: need root to install $*" >&2; exit 1; fi
  if [ $need_apt_update = 1 ]; then apt-get update -qq; need_apt_update=0; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql postgresql-client
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  conf=/etc/postgresql/$ver/main
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "ensure_services: PostgreSQL did not start" >&2; exit 1; }

# Redis
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done
fi
(exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null || { echo "ensure_services: Redis did not start" >&2; exit 1; }

# Chromium (Debian's; Playwright must never download its own browser)
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
# wrk, the HTTP load generator of `make bench` (WITH_WRK=1), from Debian's packages
also=""
if [ "${WITH_WRK:-0}" = 1 ]; then
  command -v wrk >/dev/null 2>&1 || apt_install wrk
  also=", and wrk"
fi
echo "services: PostgreSQL, Redis and Chromium ready$also"
