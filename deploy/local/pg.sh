#!/usr/bin/env bash
# A private, throwaway PostgreSQL for development, tests and the demo.
#
#   deploy/local/pg.sh start [DIR] [PORT]   initdb into DIR (default deploy/local/data), start it on
#                                           127.0.0.1:PORT (default 55433), print DATABASE_URL
#   deploy/local/pg.sh stop [DIR]           stop it cleanly (fast shutdown)
#   deploy/local/pg.sh restart [DIR] [MODE] restart with -m MODE (fast | immediate)
#   deploy/local/pg.sh url [DIR]            print the DATABASE_URL of a running cluster
#   deploy/local/pg.sh destroy [DIR]        stop and delete DIR
#
# Loopback only; the socket lives in DIR/socket. As root the server runs as the `postgres` user
# (PostgreSQL refuses to run as root); as another user it runs as that user. When the server
# binaries are missing and we are root, Debian's postgresql and libpq-dev are installed
# (set TIERGUARD_NO_INSTALL=1 to forbid that).
#
# Settings: TIERGUARD_PG_FAST=1 turns off fsync (tests only: durability does not matter for a
# throwaway cluster, and CI time does). Benchmarks leave it unset so durability stays at the defaults.
# TIERGUARD_PG_SSL_DIR=DIR (at first start): copy DIR/server.crt and DIR/server.key into the cluster
# and turn on ssl = on (TLS tests: clients check the certificate with sslmode=verify-full).
# log_parameter_max_length(_on_error) = 0: bind parameters (personal data) never reach the server log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:-}
dir=${2:-$here/data}

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

ensure_installed() {
  if ! find_bin >/dev/null || ! command -v psql >/dev/null 2>&1 || [ ! -f /usr/include/postgresql/libpq-fe.h ]; then
    if [ "$(id -u)" = 0 ] && [ "${TIERGUARD_NO_INSTALL:-0}" != 1 ]; then
      echo "pg.sh: installing postgresql and libpq-dev" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq postgresql libpq-dev >&2
    else
      echo "pg.sh: PostgreSQL server binaries or libpq-dev are missing; install postgresql and libpq-dev" >&2
      exit 1
    fi
  fi
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    # From /: the caller's folder (a clone under a 0700 mktemp folder) may be closed to postgres.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The server must not inherit the caller's descriptors: a parent that waits for a pipe or a
# socketpair to close (Foundation's Process does) would otherwise wait for as long as the server runs.
start_server() {
  (
    for fd in $(ls /proc/$BASHPID/fd); do
      [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && eval "exec $fd>&-" 2>/dev/null
    done
    as_owner "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/server.log" -w -t 60 start >/dev/null </dev/null
  )
}

url_of() {
  local port
  port=$(cat "$1/port")
  echo "postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable"
}

case "$cmd" in
  start)
    port=${3:-55433}
    ensure_installed
    bin=$(find_bin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
      # The postgres user must be able to reach the folder.
      p=$dir
      while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
      chown postgres "$dir"
    fi
    if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
      as_owner mkdir -p "$dir/pgdata" "$dir/socket"
      as_owner "$bin/initdb" -D "$dir/pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        as_owner "$bin/initdb" -D "$dir/pgdata" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
      {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$dir/socket'"
        echo "max_connections = 300"
        echo "shared_buffers = 256MB"
        echo "log_parameter_max_length = 0"
        echo "log_parameter_max_length_on_error = 0"
        echo "timezone = 'Asia/Shanghai'"
        if [ -n "${TIERGUARD_PG_SSL_DIR:-}" ]; then
          echo "ssl = on"
          echo "ssl_cert_file = 'server.crt'"
          echo "ssl_key_file = 'server.key'"
        fi
        if [ "${TIERGUARD_PG_FAST:-0}" = 1 ]; then
          echo "fsync = off"
          echo "synchronous_commit = off"
          echo "full_page_writes = off"
        fi
      } | as_owner tee -a "$dir/pgdata/postgresql.conf" >/dev/null
      echo "$port" | as_owner tee "$dir/port" >/dev/null
      if [ -n "${TIERGUARD_PG_SSL_DIR:-}" ]; then
        for f in server.crt server.key; do
          as_owner tee "$dir/pgdata/$f" <"$TIERGUARD_PG_SSL_DIR/$f" >/dev/null
        done
        as_owner chmod 600 "$dir/pgdata/server.key"
      fi
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/pgdata" status >/dev/null 2>&1; then
      start_server || { cat "$dir/server.log" >&2; exit 1; }
    fi
    url_of "$dir"
    ;;
  stop)
    bin=$(find_bin)
    [ -d "$dir/pgdata" ] && as_owner "$bin/pg_ctl" -D "$dir/pgdata" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  restart)
    bin=$(find_bin)
    as_owner "$bin/pg_ctl" -D "$dir/pgdata" -m "${3:-fast}" -w stop >/dev/null
    start_server
    ;;
  url)
    url_of "$dir"
    ;;
  destroy)
    bin=$(find_bin)
    [ -d "$dir/pgdata" ] && as_owner "$bin/pg_ctl" -D "$dir/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    sed -n '2,16p' "$0" >&2
    exit 64
    ;;
esac
