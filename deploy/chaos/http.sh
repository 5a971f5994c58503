#!/usr/bin/env bash
# HTTP listener faults against a real tierguard-scorer (issue 10, "HTTP listener"), with figures:
#
#   deploy/chaos/http.sh        builds the services (release by default), starts a throwaway cluster,
#                               loads a generated feed (10,000 customers: ~20 s of drain), holds its
#                               scoring jobs back, then:
#   1–2. paired drains  $TIERGUARD_HTTP_CHAOS_PAIRS (3) pairs, each a baseline and an attacked drain of a
#                   fresh copy of the loaded database by a new scorer, the order alternating (baseline
#                   first in odd pairs, attacked first in even ones) so that a drift of the machine's load
#                   falls on both sides. Attacked: slowhttptest -H holds $CONNECTIONS (500) connections
#                   (more than the listener's 256), one header line a second, then slowhttptest -B sends
#                   $BODY_CONNECTIONS (300) slow bodies, then -H again ..., $SECONDS_ATTACK (10) s each,
#                   from 4 s before the jobs are released until the drain ends; /livez polled every 200 ms
#                   and the open-connection gauge every second in both kinds.
#   3. fd exhaust.  a scorer under `ulimit -n 256` with 400 idle connections held for 5 s: CPU used,
#                   /livez afterwards, a job enqueued meanwhile completes
# Each drain prints jobs/s (database clock, first claim to last completion), CPU per job of the scorer and
# of PostgreSQL, the cores taken by the scorer, PostgreSQL, the attacker, everything else and idle, the
# listener's open connections, shed connections, 408s, the /livez probes and the load average.
#
# The bound: the median over the pairs of attacked/baseline jobs/s must be ≥ TIERGUARD_HTTP_CHAOS_MIN_RATIO
# (default 0.9, the issue's "within 10 %"; empty: printed only). The attacker stands in for a remote host,
# so on this one machine it must not take the CPU the worker and PostgreSQL use: slowhttptest spins in
# poll(2) with a zero timeout (a whole core when unrestrained), so it runs as SCHED_IDLE at nice 19
# (TIERGUARD_HTTP_CHAOS_ATTACKER: idle, nice or none) and, as root, in a CPU cgroup limited to
# TIERGUARD_HTTP_CHAOS_ATTACKER_QUOTA (10) % of one core (0: unlimited). Throttled so, it still holds the
# listener full (open connections median 255–256, 390–540 shed per drain, as unthrottled). Measured
# 2026-12-07 (release, 2 shared cores; load 0.9–1.2 at the start, 1.2–3.1 during the runs): median 0.93,
# 0.96 and 0.94 with the quota (every pair ≥ 0.89; scorer CPU per job, median 1.01–1.03×), 0.70 with the
# attacker SCHED_IDLE but unlimited (it took 0.55 cores; the scorer's CPU per job rose only 1.06×);
# debug build (3,000 jobs, ~9 s drains) 0.94 at 15:12; the listener itself costs the scorer 0.01 cores
# under the attack with the queue idle.
# Exit 0 when the bound holds, /livez answered 200 within 1 s throughout, every scorer exited 0 on
# SIGTERM, and the fd scenario neither spun (< 0.5 core) nor lost the job.
#
# Environment: TIERGUARD_CHAOS_CONFIGURATION (release or debug; default release), TIERGUARD_CHAOS_SCRATCH
# (SwiftPM scratch path, default .build), TIERGUARD_CHAOS_PORT (cluster port, default 55470),
# TIERGUARD_HTTP_CHAOS_CUSTOMERS (default 10,000 in release, 3,000 in debug), and the ones above.
# Needs slowhttptest, curl, chrt and PostgreSQL's binaries; as root, a missing slowhttptest is installed
# with apt-get. About 4 minutes plus the build. Run it on a quiet machine (load < 2): other work makes the
# pairs differ; the per-drain "other" cores show it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
configuration=${TIERGUARD_CHAOS_CONFIGURATION:-release}
case "$configuration" in debug | release) ;; *) echo "http.sh: TIERGUARD_CHAOS_CONFIGURATION is debug or release" >&2; exit 64 ;; esac
scratch=${TIERGUARD_CHAOS_SCRATCH:-$root/.build}
pgport=${TIERGUARD_CHAOS_PORT:-55470}
if [ "$configuration" = release ]; then default_customers=10000; else default_customers=3000; fi
customers=${TIERGUARD_HTTP_CHAOS_CUSTOMERS:-$default_customers}
pairs=${TIERGUARD_HTTP_CHAOS_PAIRS:-3}
connections=${CONNECTIONS:-500}
body_connections=${BODY_CONNECTIONS:-300}
attack_seconds=${SECONDS_ATTACK:-10}
attacker_policy=${TIERGUARD_HTTP_CHAOS_ATTACKER:-idle}
case "$attacker_policy" in
  idle) attacker=(chrt --idle 0 nice -n 19) ;;
  nice) attacker=(nice -n 19) ;;
  none) attacker=() ;;
  *) echo "http.sh: TIERGUARD_HTTP_CHAOS_ATTACKER is idle, nice or none" >&2; exit 64 ;;
esac
attacker_quota=${TIERGUARD_HTTP_CHAOS_ATTACKER_QUOTA:-10}
min_ratio=${TIERGUARD_HTTP_CHAOS_MIN_RATIO-0.9}

if ! command -v slowhttptest >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y slowhttptest >/dev/null 2>&1 \
      || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y slowhttptest >/dev/null 2>&1; }
  fi
  command -v slowhttptest >/dev/null || { echo "http.sh: slowhttptest is not installed (apt-get install slowhttptest)" >&2; exit 2; }
fi
command -v curl >/dev/null || { echo "http.sh: curl is required" >&2; exit 2; }

for product in tierguard-scorer tierguard-ingest tierguardctl; do
  if ! out=$(swift build -c "$configuration" --scratch-path "$scratch" --product "$product" 2>&1); then
    echo "$out" | grep -E "error" >&2 || echo "$out" | tail -20 >&2
    exit 1
  fi
done
bin=$(swift build -c "$configuration" --scratch-path "$scratch" --show-bin-path)
psql=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -1)
[ -n "$psql" ] || psql=$(command -v psql)

work=$(mktemp -d /tmp/tierguard-http-chaos.XXXXXX)
# The attacker's CPU cgroup (as root, cgroup v1 `cpu` or v2 with the cpu controller): a quota of
# $attacker_quota % of one core, so that slowhttptest, which spins in poll(2) with a zero timeout, cannot
# take the CPU a remote attacker would not take; its sends are then at most one period (100 ms) late.
attacker_cgroup=
if [ "$attacker_quota" != 0 ] && [ "$(id -u)" = 0 ]; then
  if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    attacker_cgroup=/sys/fs/cgroup/cpu/tierguard-http-attacker-$$
    { mkdir "$attacker_cgroup" && echo 100000 >"$attacker_cgroup/cpu.cfs_period_us" \
      && echo $(( attacker_quota * 1000 )) >"$attacker_cgroup/cpu.cfs_quota_us"; } 2>/dev/null || attacker_cgroup=
  elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
    attacker_cgroup=/sys/fs/cgroup/tierguard-http-attacker-$$
    { mkdir "$attacker_cgroup" && echo "$(( attacker_quota * 1000 )) 100000" >"$attacker_cgroup/cpu.max"; } 2>/dev/null || attacker_cgroup=
  fi
  [ -n "$attacker_cgroup" ] || echo "http.sh: no CPU cgroup for the attacker; it runs unlimited" >&2
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$attacker_cgroup" ]; then
    for p in $(cat "$attacker_cgroup/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    sleep 0.2
    rmdir "$attacker_cgroup" 2>/dev/null || true
  fi
  "$root/deploy/local/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

url=$(TIERGUARD_PG_FAST=1 "$root/deploy/local/pg.sh" start "$work/pg" "$pgport" | tail -1)
base=${url%%/postgres\?*}
dburl() { echo "$base/$1?sslmode=disable"; }
sql() { "$psql" "$(dburl "$1")" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "http.sh: generating and loading $customers customers ($configuration build)"
"$bin/tierguardctl" generate --customers "$customers" --days 90 --seed 7 --out "$work/feed" >/dev/null
sql postgres "CREATE DATABASE chaos_t"
DATABASE_URL=$(dburl chaos_t) "$bin/tierguard-ingest" load "$work/feed/feed.ndjson" >"$work/load.out" 2>&1 || [ $? = 65 ]
jobs=$(sql chaos_t "WITH held AS (UPDATE tg_jobs SET state = 'scheduled', run_at = now() + interval '1 hour'
                    WHERE queue = 'scorer' AND kind = 'score_customer' RETURNING 1) SELECT count(*) FROM held")
sql chaos_t "VACUUM ANALYZE"
sql postgres "CREATE DATABASE chaos_fd TEMPLATE chaos_t"
sql chaos_fd "DELETE FROM tg_jobs"
postmaster=$(head -1 "$work/pg/pgdata/postmaster.pid")

failed=0
# start_scorer DB PORT [ULIMIT] -> pid in $scorer
start_scorer() {
  local limit=${3:-}
  DATABASE_URL=$(dburl "$1") TIERGUARD_HTTP_HOST=127.0.0.1 TIERGUARD_HTTP_PORT=$2 TIERGUARD_SCORER_CONCURRENCY=2 \
    /bin/sh -c "${limit:+ulimit -n $limit && }exec \"\$0\" run" "$bin/tierguard-scorer" >"$work/scorer-$1.log" 2>&1 &
  scorer=$!
  pids+=("$scorer")
  for _ in $(seq 1 300); do
    curl -s -m 1 -o /dev/null "http://127.0.0.1:$2/livez" && return 0
    kill -0 "$scorer" 2>/dev/null || { echo "scorer on $1 exited: $(tail -5 "$work/scorer-$1.log")" >&2; exit 1; }
    sleep 0.1
  done
  echo "scorer on $1 never answered /livez" >&2; exit 1
}
# stop_scorer -> exit status in $stopped (not a $(...) subshell: only this shell can wait for the scorer)
stop_scorer() {
  kill -TERM "$scorer"
  stopped=0
  wait "$scorer" || stopped=$?
  [ "$stopped" = 0 ] || { echo "  scorer exited $stopped on SIGTERM" >&2; failed=1; }
}
# probe PORT FILE: /livez every 200 ms until killed, "code seconds" per line
probe() { while true; do curl -s -o /dev/null -m 1 -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$1/livez" >>"$2" || true; sleep 0.2; done; }
probe_summary() { awk '{n++; if ($1 != 200) bad++; if ($2 > max) max = $2} END {printf "%d probes, %d not 200 within 1 s, slowest %.3f s", n, bad + 0, max}' "$1"; }
probe_bad() { awk '$1 != 200 {bad++} END {print bad + 0}' "$1"; }
# sample_open PORT FILE: the listener's open-connection gauge once a second until killed
sample_open() {
  while true; do
    curl -s -m 1 "http://127.0.0.1:$1/metrics" | awk '/^tierguard_http_open_connections / {print $2}' >>"$2" || true
    sleep 1
  done
}
open_summary() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR == 0) print "n/a"; else printf "min %d, median %d", v[1], v[int((NR + 1) / 2)]}'; }
hz=$(getconf CLK_TCK)
per_job() { awk -v t="$1" -v j="$jobs" -v hz="$hz" 'BEGIN {printf "%.3f", t * 1000 / hz / j}'; }
cores() { awk -v t="$1" -v s="$2" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz / s}'; }
# wait_idle DB: until no job is running or due (the scorer's start-up whole-book rescore included)
wait_idle() {
  for _ in $(seq 1 600); do
    [ "$(sql "$1" "SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND state IN ('running', 'available')")" = 0 ] && break
    sleep 0.1
  done
  sleep 1
}
# CPU clock ticks (user + system): of a process; of a process's reaped children plus its live ones
# (the attack loop, whose slowhttptest runs come and go); of the whole PostgreSQL cluster (the
# postmaster, its live backends and the ones it reaped); and idle + iowait ticks of the machine.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tree_ticks() {
  local sum
  sum=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0)
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    sum=$(( sum + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0) ))
  done
  echo "$sum"
}
pg_ticks() { tree_ticks "$postmaster"; }
attack_ticks() { if [ -n "${attack:-}" ]; then echo $(( $(tree_ticks "$attack") - $(awk '{print $14 + $15}' "/proc/$attack/stat") )); else echo 0; fi; }
idle_ticks() { awk '/^cpu / {print $5 + $6}' /proc/stat; }
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
steal_ticks() { awk '/^cpu / {print $9}' /proc/stat; }
now() { date +%s.%N; }
drain_rate() {
  local db=$1
  sql "$db" "UPDATE tg_jobs SET run_at = now() WHERE kind = 'score_customer' AND state = 'scheduled'"
  for _ in $(seq 1 3000); do
    [ "$(sql "$db" "SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND state <> 'completed'")" = 0 ] && break
    sleep 0.1
  done
  sql "$db" "SELECT round(count(*) / extract(epoch FROM max(finished_at) - min(attempted_at)), 1)
             FROM tg_jobs WHERE kind = 'score_customer' AND state = 'completed'"
}
# attack_loop PORT: slowloris, then slow bodies, then slowloris again ... until $work/stop-attack exists;
# at the attacker's priority (nice), in the attacker's CPU cgroup when there is one.
attack_loop() {
  [ -n "$attacker_cgroup" ] && echo "$BASHPID" >"$attacker_cgroup/cgroup.procs"
  while [ ! -e "$work/stop-attack" ]; do
    # slowhttptest stops once all its connections are closed (408 after the 10 s head deadline, or shed),
    # so it is restarted until the drain is over: the attack covers the whole drain.
    "${attacker[@]}" slowhttptest -H -c "$connections" -r 200 -i 1 -l "$attack_seconds" \
      -u "http://127.0.0.1:$1/livez" >>"$work/slowloris.out" 2>&1 || true
    [ -e "$work/stop-attack" ] && break
    "${attacker[@]}" slowhttptest -B -c "$body_connections" -r 200 -i 1 -l "$attack_seconds" \
      -u "http://127.0.0.1:$1/livez" >>"$work/slowbody.out" 2>&1 || true
  done
}

# run_drain KIND N: one drain of a fresh copy of the loaded database, attacked or not; figures in
# rate_<KIND><N>, cpu_<KIND><N> (scorer ticks) and a printed line.
run_drain() {
  local kind=$1 n=$2 db="chaos_$1$2" port
  sql postgres "CREATE DATABASE $db TEMPLATE chaos_t"
  port=$(free_port)
  start_scorer "$db" "$port"
  wait_idle "$db"
  : >"$work/probe-$db"; : >"$work/open-$db"; rm -f "$work/stop-attack"
  probe "$port" "$work/probe-$db" & local probe_pid=$!; pids+=("$probe_pid")
  sample_open "$port" "$work/open-$db" & local sampler=$!; pids+=("$sampler")
  attack=
  if [ "$kind" = attacked ]; then
    attack_loop "$port" 2>/dev/null & attack=$!; pids+=("$attack")
    sleep 4
  fi
  local s0 p0 a0 i0 b0 v0 t0 s1 p1 a1 i1 b1 v1 t1 rate
  s0=$(cpu_ticks "$scorer"); p0=$(pg_ticks); a0=$(attack_ticks); i0=$(idle_ticks); b0=$(busy_ticks); v0=$(steal_ticks); t0=$(now)
  rate=$(drain_rate "$db")
  s1=$(cpu_ticks "$scorer"); p1=$(pg_ticks); a1=$(attack_ticks); i1=$(idle_ticks); b1=$(busy_ticks); v1=$(steal_ticks); t1=$(now)
  local seconds; seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
  local extra=""
  if [ -n "$attack" ]; then
    if [ "$n" = "$pairs" ]; then
      # Once every job is done: 5 s of the attack alone, the listener's CPU against the attacker's.
      wait_idle "$db"
      local q0 r0; q0=$(cpu_ticks "$scorer"); r0=$(attack_ticks)
      sleep 5
      extra=$(printf '\n           with the queue idle, the attack costs the scorer %s cores and the attacker %s cores' \
        "$(cores $(( $(cpu_ticks "$scorer") - q0 )) 5)" "$(cores $(( $(attack_ticks) - r0 )) 5)")
    fi
    touch "$work/stop-attack"
    kill $(ps -o pid= --ppid "$attack") 2>/dev/null || true
    wait "$attack" || true
  fi
  kill "$probe_pid" "$sampler"; wait "$probe_pid" "$sampler" 2>/dev/null || true
  local shed timeouts
  shed=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/reason="shed_slow_head"/ {print $2}')
  timeouts=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^tierguard_http_read_timeouts_total/ {sub(/tierguard_http_read_timeouts_total/, "408s"); printf "%s%s", sep, $0; sep=", "}')
  stop_scorer
  printf -v "rate_$kind$n" '%s' "$rate"
  printf -v "cpu_$kind$n" '%s' $(( s1 - s0 ))
  # Cores over the drain: the scorer, PostgreSQL, the attacker, everything else on the machine (other
  # people's work, the probes, softirq), idle.
  printf '%-8s %d: %s jobs/s over %s s; CPU ms/job: scorer %s, PostgreSQL %s; cores: scorer %s, PostgreSQL %s, attacker %s, other %s, idle %s, stolen by the hypervisor %s;' \
    "$kind" "$n" "$rate" "$seconds" "$(per_job $(( s1 - s0 )))" "$(per_job $(( p1 - p0 )))" \
    "$(cores $(( s1 - s0 )) "$seconds")" "$(cores $(( p1 - p0 )) "$seconds")" "$(cores $(( a1 - a0 )) "$seconds")" \
    "$(cores $(( b1 - b0 - (s1 - s0) - (p1 - p0) - (a1 - a0) )) "$seconds")" "$(cores $(( i1 - i0 )) "$seconds")" "$(cores $(( v1 - v0 )) "$seconds")"
  printf ' open connections %s; %s shed, %s; /livez %s; exit %s; load %s%s\n' \
    "$(open_summary "$work/open-$db")" "${shed:-0}" "${timeouts:-no 408s}" "$(probe_summary "$work/probe-$db")" \
    "$stopped" "$(cut -d' ' -f1-3 /proc/loadavg)" "$extra"
  [ "$(probe_bad "$work/probe-$db")" = 0 ] || failed=1
  sql postgres "DROP DATABASE $db"
}

# 1–2. Paired drains, alternating the order (ABBA: baseline first in odd pairs, attacked first in even
# ones) so that a drift of the machine's load falls on both sides.
echo "http.sh: $pairs pairs, attacker: slowhttptest as ${attacker[*]:-is}${attacker_cgroup:+, limited to $attacker_quota % of a core}; load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $(seq 1 "$pairs"); do
  if [ $(( n % 2 )) = 1 ]; then run_drain baseline "$n"; run_drain attacked "$n"
  else run_drain attacked "$n"; run_drain baseline "$n"; fi
done
ratios=(); cpu_ratios=()
for n in $(seq 1 "$pairs"); do
  a=rate_baseline$n; b=rate_attacked$n; ca=cpu_baseline$n; cb=cpu_attacked$n
  ratios+=("$(awk -v a="${!a}" -v b="${!b}" 'BEGIN {printf "%.3f", b / a}')")
  cpu_ratios+=("$(awk -v a="${!ca}" -v b="${!cb}" 'BEGIN {printf "%.3f", b / a}')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio=$(median "${ratios[@]}")
cpu_ratio=$(median "${cpu_ratios[@]}")
echo "throughput attacked/baseline per pair: ${ratios[*]}; median $ratio (bound ${min_ratio:-not asserted});" \
     "scorer CPU per job attacked/baseline: ${cpu_ratios[*]}; median $cpu_ratio; $configuration build; load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$min_ratio" ]; then
  awk -v r="$ratio" -v m="$min_ratio" 'BEGIN {exit !(r >= m)}' || { echo "  median throughput ratio $ratio < $min_ratio" >&2; failed=1; }
fi

# 3. File-descriptor exhaustion.
port=$(free_port)
start_scorer chaos_fd "$port" 256
wait_idle chaos_fd
python3 - "$port" "$scorer" "$work/fd.out" <<'EOF' &
import os, socket, sys, time
port, pid, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
held = []
for _ in range(400):
    s = socket.socket(); s.settimeout(2)
    try: s.connect(("127.0.0.1", port)); held.append(s)
    except OSError: break
before = cpu(); time.sleep(5); used = cpu() - before
with open(out, "w") as f: f.write(f"{len(held)} {used / 5:.2f}\n")
for s in held: s.close()
EOF
holder=$!
sleep 1
sql chaos_fd "INSERT INTO tg_jobs (queue, kind, args) VALUES ('scorer', 'score_customer', '{\"customer_id\": \"NOBODY\"}')"
wait "$holder"
read -r held cores <"$work/fd.out"
started=$(date +%s.%N)
until curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/livez"; do sleep 0.05; done
recover=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
for _ in $(seq 1 150); do
  [ "$(sql chaos_fd "SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND state = 'completed'")" = 1 ] && break
  sleep 0.1
done
done_jobs=$(sql chaos_fd "SELECT count(*) FROM tg_jobs WHERE kind = 'score_customer' AND state = 'completed'")
fd_rejects=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/reason="fd_exhausted"/ {print $2}')
stop_scorer; exit_fd=$stopped
echo "fd exhaustion (ulimit -n 256): $held connections held 5 s, scorer CPU $cores cores, ${fd_rejects:-0} accepts" \
     "closed for lack of descriptors, /livez 200 again ${recover} s after release, job enqueued meanwhile completed: $done_jobs/1; exit $exit_fd"
[ "$done_jobs" = 1 ] || failed=1
awk -v c="$cores" 'BEGIN {exit !(c < 0.5)}' || { echo "  the scorer used $cores cores while out of descriptors" >&2; failed=1; }

if [ "$failed" = 0 ]; then echo "http.sh: PASS"; else echo "http.sh: FAIL"; fi
exit "$failed"
