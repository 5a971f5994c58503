#!/usr/bin/env bash
# The main job on a fresh machine: start the local database, migrate, generate a sample feed,
# load it through tierguard-ingest, score it with tierguard-scorer, and print what the archive and
# the scorer now hold, with the time each stage took.
#
#   deploy/local/demo.sh            # leaves the database running (deploy/local/pg.sh stop to stop it)
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
DATABASE_URL=$(deploy/local/pg.sh start)
export DATABASE_URL
echo "DATABASE_URL=$DATABASE_URL"

stage "build"
t=$(now); swift build -c release 2>&1 | tail -1; took "$t"
bin=$(swift build -c release --show-bin-path)

stage "migrate"
t=$(now); "$bin/tierguardctl" migrate; took "$t"

stage "smoke query"
psql "$DATABASE_URL" -Atc "SELECT 'schema_migrations: ' || count(*) FROM schema_migrations"

if "$bin/tierguardctl" generate --help >/dev/null 2>&1 && [ -x "$bin/tierguard-ingest" ]; then
  out=$(mktemp -d /tmp/tierguard-demo.XXXXXX)
  stage "generate $customers customers x $days days"
  t=$(now); "$bin/tierguardctl" generate --customers "$customers" --days "$days" --seed 42 --out "$out"; took "$t"
  stage "load through tierguard-ingest"
  t=$(now); "$bin/tierguard-ingest" load "$out/feed.ndjson"; took "$t"
  stage "archive"
  psql "$DATABASE_URL" -c "SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM accounts) AS accounts,
      (SELECT count(*) FROM balances) AS balances, (SELECT count(*) FROM transactions) AS transactions,
      (SELECT count(*) FROM ingest_rejects) AS rejects, (SELECT count(*) FROM pending_records) AS pending"
  "$bin/tierguardctl" rejects --limit 20 || true
  if "$bin/tierguard-scorer" --help 2>/dev/null | grep -q drain; then
    stage "score (tierguard-scorer drains the scoring jobs)"
    t=$(now); "$bin/tierguard-scorer" drain; took "$t"
    stage "tier distribution"
    psql "$DATABASE_URL" -c "SELECT tier, count(*) FROM customer_status GROUP BY tier ORDER BY 1"
    stage "most at risk of a downgrade"
    psql "$DATABASE_URL" -c "SELECT * FROM customer_status WHERE projected_downgrade_on IS NOT NULL ORDER BY gap_fen NULLS FIRST LIMIT 10" || true
  fi
fi
