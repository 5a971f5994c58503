#!/usr/bin/env bash
# The main job on a fresh machine: start the local database, migrate, generate a sample feed,
# load it through tierguard-ingest, score it with tierguard-scorer, and print what the archive and
# the scorer now hold, with the time each stage took.
#
#   deploy/local/demo.sh            # leaves the database running (deploy/local/pg.sh stop to stop it);
#                                   # each run starts from an empty database, tierguard_demo
#   TIERGUARD_DEMO_CUSTOMERS=2000 deploy/local/demo.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
customers=${TIERGUARD_DEMO_CUSTOMERS:-500}
days=${TIERGUARD_DEMO_DAYS:-120}
stage() { printf '\n== %s\n' "$1"; }
now() { date +%s.%N; }
took() { printf '   (%.2f s)\n' "$(echo "$(now) - $1" | bc)"; }
command -v bc >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq bc >/dev/null; }

stage "database"
cluster_url=$(deploy/local/pg.sh start)
# A fresh database on every run: the cluster's data folder outlives the run, and a second run over the
# first one's archive told a different story (its feed all "unchanged", the feedback stage's survey and
# complaint ids answered 409 against the first run's, the dissatisfied signal it announces absent).
psql "$cluster_url" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS tierguard_demo WITH (FORCE)" \
  -c "CREATE DATABASE tierguard_demo" >/dev/null
DATABASE_URL=${cluster_url/\/postgres\?//tierguard_demo?}
export DATABASE_URL
echo "DATABASE_URL=$DATABASE_URL"

stage "build"
t=$(now); swift build -c release 2>&1 | tail -1; took "$t"
bin=$(swift build -c release --show-bin-path)

stage "migrate"
t=$(now); "$bin/tierguardctl" migrate; took "$t"

stage "smoke query"
psql "$DATABASE_URL" -Atc "SELECT 'schema_migrations: ' || count(*) FROM schema_migrations"

out=$(mktemp -d /tmp/tierguard-demo.XXXXXX)
stage "generate $customers customers x $days days (seed 42, business date 2026-11-30)"
t=$(now); "$bin/tierguardctl" generate --customers "$customers" --days "$days" --seed 42 --out "$out"; took "$t"

stage "load through tierguard-ingest"
t=$(now); "$bin/tierguard-ingest" load "$out/feed.ndjson" || true; took "$t"

stage "the archive"
psql "$DATABASE_URL" -c "SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM accounts) AS accounts,
    (SELECT count(*) FROM balances) AS balances, (SELECT count(*) FROM transactions) AS transactions,
    (SELECT count(*) FROM relationship_managers) AS rms, (SELECT count(*) FROM ingest_rejects) AS rejects,
    (SELECT count(*) FROM pending_records) AS pending"
"$bin/tierguardctl" rejects --limit 25 || true

stage "score: tierguard-scorer works the queue until the scoring jobs are drained"
t=$(now)
TIERGUARD_HTTP_PORT=0 "$bin/tierguard-scorer" run 2>"$out/scorer.log" &
scorer=$!
while [ "$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND state IN ('available', 'running', 'retryable')")" != 0 ]; do
  kill -0 "$scorer" 2>/dev/null || { echo "tierguard-scorer exited; see $out/scorer.log"; tail -5 "$out/scorer.log"; break; }
  sleep 0.5
done
kill -TERM "$scorer" 2>/dev/null; wait "$scorer" || true
took "$t"
"$bin/tierguardctl" jobs || true

stage "tier distribution"
psql "$DATABASE_URL" -c "SELECT tier, is_provisional, count(*) FROM customer_status GROUP BY 1, 2 ORDER BY 1, 2"

stage "most at risk of a downgrade (projected date and gap, fen)"
psql "$DATABASE_URL" -c "SELECT customer_id, tier, downgrade_to_tier, downgrade_date, gap_fen, extra_daily_fen, watch_months
    FROM customer_status WHERE downgrade_date IS NOT NULL ORDER BY downgrade_date, gap_fen NULLS FIRST LIMIT 10"

stage "open signals by kind"
psql "$DATABASE_URL" -c "SELECT kind, count(*) FROM alerts WHERE state = 'open' GROUP BY 1 ORDER BY 2 DESC"

stage "recommendations for a few customers"
for id in $(psql "$DATABASE_URL" -Atc "SELECT customer_id FROM customer_status WHERE open_signals IS NOT NULL AND cardinality(open_signals) > 0 ORDER BY retention_probability DESC NULLS LAST LIMIT 3"); do
  "$bin/tierguardctl" customer show "$id" || true
done
stage "notify: tierguard-notifier delivers the alerts to the RMs' workbench (a local webhook receiver)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$out/receiver.py" <<'PY'
import http.server, json, sys
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"webhook-id": self.headers.get("webhook-id"), "body": json.loads(body or b"{}")}, ensure_ascii=False) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
PY
python3 "$out/receiver.py" "$port" "$out/received.ndjson" &
receiver=$!
for _ in $(seq 1 50); do
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$port" 2>/dev/null && break
  sleep 0.1
done
t=$(now)
TIERGUARD_HTTP_PORT=0 TIERGUARD_NOTIFY_WEBHOOK_URL="http://127.0.0.1:$port/tierguard" \
  TIERGUARD_NOTIFY_WEBHOOK_SECRETS="whsec_$(printf 'demo-secret-0123456789abcdef' | base64)" \
  "$bin/tierguard-notifier" 2>"$out/notifier.log" &
notifier=$!
for _ in $(seq 1 60); do
  [ "$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM tg_jobs WHERE queue = 'notifier' AND state IN ('available', 'running', 'retryable')")" = 0 ] && break
  sleep 0.5
done
kill -TERM "$notifier" 2>/dev/null; wait "$notifier" || true
kill "$receiver" 2>/dev/null || true
took "$t"
psql "$DATABASE_URL" -c "SELECT channel, urgent, state, coalesce(reason, '') AS reason, count(*) FROM notifications GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3" || true
echo "messages the RMs received (urgent ones go out at once; the rest wait for the 08:30 digest):"
if [ -s "$out/received.ndjson" ]; then
  python3 -c 'import json,sys
for line in open(sys.argv[1]):
    m = json.loads(line); b = m["body"]
    print("-", m["webhook-id"], json.dumps(b, ensure_ascii=False)[:600])' "$out/received.ndjson"
else
  echo "  (none: every alert of this demo waits for the 08:30 digest, or it is quiet hours in Asia/Shanghai)"
fi
stage "RM tasks created"
psql "$DATABASE_URL" -c "SELECT kind, status, count(*) FROM rm_tasks GROUP BY 1, 2 ORDER BY 1" || true

stage "feedback: surveys, a complaint and the RMs' visit outcomes over tierguard-feedback's API, then re-score"
token=demo-token-$RANDOM$RANDOM
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
fport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TIERGUARD_HTTP_PORT=$fport TIERGUARD_FEEDBACK_TOKENS="demo:surveys:write+complaints:write+visits:write+alerts:feedback:$hash" \
  "$bin/tierguard-feedback" serve 2>"$out/feedback.log" &
feedback=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$fport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
post() { curl -sS -o /dev/null -w "  POST $1 -> %{http_code}\n" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "$2" "http://127.0.0.1:$fport$1"; }
steady=$(psql "$DATABASE_URL" -Atc "SELECT customer_id FROM customer_status WHERE tier = 'gold' AND cardinality(open_signals) = 0 ORDER BY customer_id LIMIT 1")
risky=$(psql "$DATABASE_URL" -Atc "SELECT customer_id FROM customer_status WHERE downgrade_date IS NOT NULL ORDER BY customer_id LIMIT 1")
risky_alert=$(psql "$DATABASE_URL" -Atc "SELECT id FROM alerts WHERE customer_id = '$risky' AND kind = 'downgrade_risk' ORDER BY id LIMIT 1")
risky_rm=$(psql "$DATABASE_URL" -Atc "SELECT rm_id FROM customers WHERE customer_id = '$risky'")
echo "customers: $steady (steady 金卡) and $risky (downgrade warning, alert ${risky_alert:-none})"
post /v1/surveys "{\"survey_id\":\"S-demo-1\",\"customer_id\":\"$steady\",\"kind\":\"csat\",\"score\":1,\"touchpoint\":\"branch\",\"answered_at\":\"2026-11-30T10:00:00+08:00\",\"comment\":\"排队太久\"}"
post /v1/surveys "{\"survey_id\":\"S-demo-2\",\"customer_id\":\"$risky\",\"kind\":\"nps\",\"score\":9,\"touchpoint\":\"rm_visit\",\"answered_at\":\"2026-11-30T11:00:00+08:00\"}"
post /v1/complaints "{\"complaint_id\":\"CP-demo-1\",\"customer_id\":\"$steady\",\"received_at\":\"2026-11-30T10:05:00+08:00\",\"channel\":\"branch\",\"category\":\"service\",\"severity\":\"medium\",\"description\":\"柜面等候时间过长\"}"
[ -n "$risky_alert" ] && post /v1/visits "{\"visit_id\":\"V-demo-1\",\"customer_id\":\"$risky\",\"rm_id\":\"$risky_rm\",\"visited_at\":\"2026-11-30T15:00:00+08:00\",\"method\":\"phone\",\"outcome\":\"committed_deposit\",\"amount\":\"60000.00\",\"alert_id\":$risky_alert}"
[ -n "$risky_alert" ] && post /v1/alert-feedback "{\"alert_id\":$risky_alert,\"rm_id\":\"$risky_rm\",\"useful\":true,\"reason_code\":\"accurate\"}"
kill -TERM "$feedback" 2>/dev/null; wait "$feedback" || true
TIERGUARD_HTTP_PORT=0 "$bin/tierguard-scorer" run 2>>"$out/scorer.log" &
scorer=$!
for _ in $(seq 1 60); do
  [ "$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM tg_jobs WHERE queue = 'scorer' AND state IN ('available', 'running', 'retryable')")" = 0 ] && break
  sleep 0.5
done
kill -TERM "$scorer" 2>/dev/null; wait "$scorer" || true
echo "after the feedback (the complaint suppresses product offers; CSAT 1 raises dissatisfied):"
"$bin/tierguardctl" customer show "$steady" || true
psql "$DATABASE_URL" -c "SELECT kind, status, count(*) FROM rm_tasks GROUP BY 1, 2 ORDER BY 1, 2" || true
"$bin/tierguardctl" report retention --from 2026-11-01 --to 2026-12-31 || true

echo
echo "Feed and scenarios: $out (scenarios.json lists what each named scenario should raise)."
