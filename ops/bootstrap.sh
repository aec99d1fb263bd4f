#!/usr/bin/env bash
# Makes this machine ready to run sidep, and is harmless to run again: npm dependencies, then NATS with
# JetStream (127.0.0.1:4222), PostgreSQL (127.0.0.1:5432) and ClickHouse (127.0.0.1:8123), each installed
# from Debian's packages when missing and started when stopped. Databases, tables and streams are created
# by the platform itself (`sidep start` / `sidep migrate`), and by each test for its own.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[bootstrap] $*" >&2; }
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@"; then return 0; fi
    sleep 0.25
  done
  say "$name did not come up within ${seconds}s"; return 1
}

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- npm dependencies: installed when missing or when the lockfile changed since the last install
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi

# --- NATS with JetStream
if ! port_open 4222; then
  command -v nats-server >/dev/null || { say "installing nats-server"; apt_install nats-server; }
  say "starting nats-server (JetStream) on 127.0.0.1:4222"
  $SUDO mkdir -p /var/lib/nats-server
  $SUDO start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for nats-server 30 port_open 4222
fi

# --- PostgreSQL
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    say "installing postgresql"
    apt_install postgresql
  fi
  say "starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  wait_for postgresql 60 pg_isready -q -h 127.0.0.1 -p 5432
  # a fresh cluster has no role for this user: create it as a superuser for local development
  if ! psql -h 127.0.0.1 -U "$(id -un)" -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    $SUDO -u postgres createuser -s "$(id -un)" 2>/dev/null || su postgres -c "createuser -s $(id -un)" || true
  fi
fi

# --- PostgreSQL settings for the ingest load (ops/postgres/sidep.conf): applied when they differ, reload only
if [ -f ops/postgres/sidep.conf ]; then
  changed=""
  while IFS='=' read -r key value; do
    key=$(echo "$key" | tr -d ' '); value=$(echo "$value" | sed "s/^ *//; s/ *$//")
    case "$key" in ''|'#'*) continue ;; esac
    # compare in the setting's own unit: ask the server what the wanted value means
    current=$(psql -h 127.0.0.1 -U "$(id -un)" -d postgres -Atc "SELECT current_setting('$key')" 2>/dev/null || echo "?")
    if [ "$current" != "$value" ]; then
      psql -h 127.0.0.1 -U "$(id -un)" -d postgres -qAtc "ALTER SYSTEM SET $key = '$value'" >/dev/null && changed=1
    fi
  done < ops/postgres/sidep.conf
  if [ -n "$changed" ]; then
    say "PostgreSQL settings from ops/postgres/sidep.conf applied (reload)"
    psql -h 127.0.0.1 -U "$(id -un)" -d postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    # shared_buffers only changes at a restart: done once, the first time the file's value is applied
    if [ "$(psql -h 127.0.0.1 -U "$(id -un)" -d postgres -Atc "SELECT count(*) FROM pg_settings WHERE pending_restart")" != "0" ]; then
      say "restarting PostgreSQL once for settings that need it (shared_buffers)"
      $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main restart
      wait_for postgresql 60 pg_isready -q -h 127.0.0.1 -p 5432
    fi
  fi
fi

# --- ClickHouse (Debian's clickhouse-server; started without systemd)
if ! curl -fsS --max-time 2 http://127.0.0.1:8123/ping >/dev/null 2>&1; then
  if ! command -v clickhouse-server >/dev/null; then
    say "installing clickhouse-server from Debian's packages (one time)"
    apt_install clickhouse-server
  fi
  # a server still shutting down holds its files and ports: a new one started now would exit at once
  if pgrep -x clickhouse-serv >/dev/null 2>&1 || pgrep -x clickhouse-server >/dev/null 2>&1; then
    say "waiting for a clickhouse-server that is stopping"
    wait_for "clickhouse-server shutdown" 120 sh -c '! pgrep -x clickhouse-serv >/dev/null && ! pgrep -x clickhouse-server >/dev/null' || true
  fi
  say "starting clickhouse-server on 127.0.0.1:8123"
  $SUDO mkdir -p /var/run/clickhouse-server /var/log/clickhouse-server
  $SUDO clickhouse-server --daemon --config-file=/etc/clickhouse-server/config.xml \
    --pid-file=/var/run/clickhouse-server/clickhouse-server.pid
  wait_for clickhouse 60 curl -fsS --max-time 2 http://127.0.0.1:8123/ping -o /dev/null
fi
say "NATS, PostgreSQL and ClickHouse are up"
