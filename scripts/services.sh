#!/usr/bin/env bash
# Makes sure the Redis and PostgreSQL servers the tests talk to are running on loopback, starting
# them (and installing them from the system's packages, when run as root) if they are not, and
# that bubblewrap (the executor's sandbox) and Chromium (the docs portal's browser test) are
# installed. Exits non-zero, saying why, when any cannot be had: tests never skip for a missing
# server, sandbox or browser.
set -euo pipefail

REDIS_PORT="${TEST_REDIS_PORT:-6379}"
PG_PORT="${TEST_PG_PORT:-5432}"

say() { printf 'services: %s\n' "$*" >&2; }

redis_up() {
  # A raw RESP PING over bash's /dev/tcp, in a subshell: needs no client installed.
  local reply
  reply=$(
    {
      exec 3<>"/dev/tcp/127.0.0.1/${REDIS_PORT}" &&
        printf 'PING\r\n' >&3 &&
        IFS= read -r -t 2 line <&3 &&
        printf '%s' "$line"
    } 2>/dev/null
  ) || return 1
  [[ "$reply" == +PONG* ]]
}

pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
  else
    (exec 3<>"/dev/tcp/127.0.0.1/${PG_PORT}") 2>/dev/null || return 1
  fi
}

install_pkg() {
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install $1: not root or no apt-get"
    return 1
  fi
  say "installing $1"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 50); do
    if $check; then return 0; fi
    sleep 0.2
  done
  say "$what did not come up"
  return 1
}

if ! redis_up; then
  command -v redis-server >/dev/null 2>&1 || install_pkg redis-server
  say "starting redis-server on 127.0.0.1:${REDIS_PORT}"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no >/dev/null
  wait_for "Redis on 127.0.0.1:${REDIS_PORT}" redis_up || exit 1
fi

if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    install_pkg postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting PostgreSQL ${version} on 127.0.0.1:${PG_PORT}"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for "PostgreSQL on 127.0.0.1:${PG_PORT}" pg_up || exit 1
fi

if ! command -v bwrap >/dev/null 2>&1; then
  install_pkg bubblewrap || exit 1
fi
if ! bwrap --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
  --unshare-all --die-with-parent /usr/bin/true; then
  say "bwrap is installed but cannot start a sandbox here (user namespaces refused?)"
  exit 1
fi

# The docs portal's browser test drives Debian's Chromium (tests/e2e/docs-browser.test.ts).
if [[ ! -x /usr/bin/chromium ]]; then
  install_pkg chromium || exit 1
fi

say "Redis 127.0.0.1:${REDIS_PORT} and PostgreSQL 127.0.0.1:${PG_PORT} are up; bwrap works; chromium is installed"
