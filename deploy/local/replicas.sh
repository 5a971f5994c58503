#!/usr/bin/env bash
# The compose topology without containers: N replicas of each TierGuard service as processes on this machine,
# sharing nothing but the database (the demo and the scale test use it).
#
#   deploy/local/replicas.sh start [--ingest N] [--scorer N] [--notifier N] [--feedback N]
#                                  [--dir DIR] [--bin DIR] [--base-port PORT] [--no-migrate] [--no-wait]
#   deploy/local/replicas.sh stop [--dir DIR] [--timeout SECONDS]
#   deploy/local/replicas.sh status [--dir DIR]
#
# start  runs `tierguardctl migrate` once, then each replica with its own HTTP port (TIERGUARD_HTTP_PORT, counting
#        up from --base-port, default 18080, skipping ports in use) on 127.0.0.1, and waits until every replica's
#        /readyz answers 200 (60 s; TIERGUARD_REPLICAS_WAIT). Counts default to 1 each; 0 leaves a service out.
#        Prints one line per replica: service, replica number, pid, port, log file.
# stop   SIGTERM to every replica, then waits up to --timeout (default 30 s: the 20 s drain plus 10 s, as the
#        containers get); a replica still running then gets SIGKILL and stop exits 1.
# status the replicas of DIR with alive/ready.
#
# DATABASE_URL comes from the environment, else from a running deploy/local/pg.sh cluster. Every other
# TIERGUARD_* variable in the environment reaches the replicas unchanged.
# Binaries: --bin DIR, else TIERGUARD_BIN_DIR, else .build/debug, else .build/release (the first that holds all
# the executables started). DIR (default deploy/local/data/replicas) gets logs/<service>-<n>.log and replicas.tsv
# (service, n, pid, port), which stop and status read.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
services=(tierguard-ingest tierguard-scorer tierguard-notifier tierguard-feedback)

usage() {
  sed -n '5,8p' "$0" | sed 's/^# //' >&2
  exit 64
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift

dir=$here/data/replicas
bin_dir=${TIERGUARD_BIN_DIR:-}
base_port=18080
migrate=1
wait_ready=1
timeout=30
declare -A count=([tierguard-ingest]=1 [tierguard-scorer]=1 [tierguard-notifier]=1 [tierguard-feedback]=1)

while [ $# -gt 0 ]; do
  case "$1" in
    --ingest | --scorer | --notifier | --feedback)
      if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then echo "replicas: $1 needs a count" >&2; exit 64; fi
      count[tierguard-${1#--}]=$2
      shift 2
      ;;
    --dir) dir=${2:?--dir needs a folder}; shift 2 ;;
    --bin) bin_dir=${2:?--bin needs a folder}; shift 2 ;;
    --base-port) base_port=${2:?--base-port needs a port}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
    --no-migrate) migrate=0; shift ;;
    --no-wait) wait_ready=0; shift ;;
    *) echo "replicas: unknown argument $1" >&2; usage ;;
  esac
done

manifest=$dir/replicas.tsv

is_alive() { kill -0 "$1" 2>/dev/null; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

is_ready() { TIERGUARD_HTTP_PORT=$1 "$repo/deploy/container/probe.sh" /readyz >/dev/null 2>&1; }

# Starts a program detached from our descriptors: a parent waiting for a pipe to close (a test's Process) must not
# wait for as long as the replica runs, so every inherited descriptor above 2 is closed first.
spawn() { # LOG PROGRAM ARGS…
  local log=$1
  shift
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && eval "exec $fd>&-" 2>/dev/null
    done
    exec "$@" </dev/null >>"$log" 2>&1
  ) &
  echo $!
}

running_pids() {
  [ -f "$manifest" ] || return 0
  while IFS=$'\t' read -r _ _ pid _; do
    is_alive "$pid" && echo "$pid"
  done <"$manifest"
}

find_binaries() {
  local candidates=() wanted=(tierguardctl) service
  for service in "${services[@]}"; do
    [ "${count[$service]}" -gt 0 ] && wanted+=("$service")
  done
  if [ -n "$bin_dir" ]; then candidates=("$bin_dir"); else candidates=("$repo/.build/debug" "$repo/.build/release"); fi
  local candidate exe
  for candidate in "${candidates[@]}"; do
    for exe in "${wanted[@]}"; do
      [ -x "$candidate/$exe" ] || continue 2
    done
    echo "$candidate"
    return 0
  done
  echo "replicas: no folder of ${candidates[*]} holds ${wanted[*]}; run swift build (or pass --bin)" >&2
  return 1
}

start() {
  if [ -n "$(running_pids)" ]; then
    echo "replicas: replicas of $dir are still running; stop them first" >&2
    exit 1
  fi
  local bin
  bin=$(find_binaries)
  if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL=$("$here/pg.sh" url 2>/dev/null) || {
      echo "replicas: set DATABASE_URL or start deploy/local/pg.sh" >&2
      exit 1
    }
  fi
  export DATABASE_URL
  mkdir -p "$dir/logs"
  : >"$manifest"

  if [ "$migrate" = 1 ]; then
    "$bin/tierguardctl" migrate >>"$dir/logs/migrate.log" 2>&1 || {
      echo "replicas: tierguardctl migrate failed:" >&2
      tail -n 20 "$dir/logs/migrate.log" >&2
      exit 1
    }
  fi

  local port=$base_port service n pid log
  for service in "${services[@]}"; do
    for ((n = 1; n <= count[$service]; n++)); do
      while port_in_use "$port"; do port=$((port + 1)); done
      log=$dir/logs/$service-$n.log
      : >"$log"
      pid=$(TIERGUARD_HTTP_HOST=127.0.0.1 TIERGUARD_HTTP_PORT=$port spawn "$log" "$bin/$service")
      printf '%s\t%s\t%s\t%s\n' "$service" "$n" "$pid" "$port" >>"$manifest"
      printf '%s %s pid %s port %s log %s\n' "$service" "$n" "$pid" "$port" "$log"
      port=$((port + 1))
    done
  done

  [ "$wait_ready" = 1 ] || return 0
  local deadline=$((SECONDS + ${TIERGUARD_REPLICAS_WAIT:-60})) pending
  while :; do
    pending=0
    while IFS=$'\t' read -r service n pid port; do
      if ! is_alive "$pid"; then
        echo "replicas: $service $n (pid $pid) exited during start; its log:" >&2
        tail -n 30 "$dir/logs/$service-$n.log" >&2
        stop_all >/dev/null 2>&1 || true
        exit 1
      fi
      is_ready "$port" || pending=$((pending + 1))
    done <"$manifest"
    [ "$pending" = 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "replicas: $pending replica(s) not ready after ${TIERGUARD_REPLICAS_WAIT:-60} s; logs in $dir/logs" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "replicas: all ready"
}

stop_all() {
  [ -f "$manifest" ] || { echo "replicas: nothing started in $dir"; return 0; }
  local pids service n pid port
  mapfile -t pids < <(running_pids)
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + timeout)) left=("${pids[@]}")
  while [ "${#left[@]}" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.1
    local still=()
    for pid in "${left[@]}"; do is_alive "$pid" && still+=("$pid"); done
    left=("${still[@]+"${still[@]}"}")
  done
  local status=0
  while IFS=$'\t' read -r service n pid port; do
    for left_pid in "${left[@]+"${left[@]}"}"; do
      if [ "$left_pid" = "$pid" ]; then
        echo "replicas: $service $n (pid $pid) still running ${timeout} s after SIGTERM; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        status=1
      fi
    done
  done <"$manifest"
  echo "replicas: stopped ${#pids[@]} process(es)"
  rm -f "$manifest"
  return "$status"
}

status() {
  [ -f "$manifest" ] || { echo "replicas: nothing started in $dir"; return 0; }
  local service n pid port state
  while IFS=$'\t' read -r service n pid port; do
    if ! is_alive "$pid"; then
      state=exited
    elif is_ready "$port"; then
      state=ready
    else
      state=alive
    fi
    printf '%s %s pid %s port %s %s\n' "$service" "$n" "$pid" "$port" "$state"
  done <"$manifest"
}

case "$cmd" in
  start) start ;;
  stop) stop_all ;;
  status) status ;;
  *) usage ;;
esac
