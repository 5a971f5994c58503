#!/usr/bin/env bash
# PostgreSQL isolation specs over the job queue's exact SQL (issue 10).
#
#   deploy/isolation/run.sh            run every spec, compare with expected/, exit 1 on any difference
#   deploy/isolation/run.sh NAME...    run only these specs (file names without .spec.in)
#   TIERGUARD_ISOLATION_ACCEPT=1 deploy/isolation/run.sh
#                                      write the outputs into expected/ instead (then READ them: an
#                                      expected file must show what its spec's invariant claims)
#
# Each specs/NAME.spec.in is an isolationtester spec in which `@sql:FILE@` stands for the text of
# Shared/JobQueue/SQL/Statements/FILE.sql, the very file the JobQueue module loads at start-up
# (JobSQLText), and `@ingest:FILE@` for Shared/TierGuardStore/Ingest/SQL/FILE.sql, the file ingest's
# apply loads (IngestSQLText). Sessions paste it into `PREPARE stmt AS @sql:FILE@;` in their setup and
# their steps `EXECUTE stmt(...)`, so what runs here is what the workers and ingest run, byte for byte.
#
# A throwaway cluster (deploy/local/pg.sh, fsync off) on a free loopback port; one fresh database per
# spec with the job queue's migrations applied (psql), and for a spec naming `@ingest:` TierGuardStore's
# migrations too (the real `customers` table); isolationtester (PostgreSQL's own, shipped in
# Debian's postgresql-client-NN under lib/pgxs) reads the generated spec; its output is compared with
# expected/NAME.out like pg_regress does. The cluster is always deleted. About 10 s in all.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
statements=Shared/JobQueue/SQL/Statements
migrations=Shared/JobQueue/SQL/Migrations
ingest_statements=Shared/TierGuardStore/Ingest/SQL
store_migrations=Shared/TierGuardStore/Migrations

tester=""
for candidate in /usr/lib/postgresql/*/lib/pgxs/src/test/isolation/isolationtester \
                 "$(pg_config --pkglibdir 2>/dev/null || echo /nonexistent)/pgxs/src/test/isolation/isolationtester"; do
  [ -x "$candidate" ] && tester=$candidate
done
if [ -z "$tester" ]; then
  echo "isolation: isolationtester not found (Debian ships it in postgresql-client-15)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/tierguard-isolation.XXXXXX)
cleanup() { "$root/deploy/local/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55437)
url=$(TIERGUARD_PG_FAST=1 "$root/deploy/local/pg.sh" start "$work/pg" "$port")

# `@sql:FILE@`, `@ingest:FILE@` -> the file's text without its trailing newline (exactly what
# JobSQLText and IngestSQLText send).
shopt -u patsub_replacement 2>/dev/null || true
render() {
  local text placeholder file sql
  text=$(cat "$1")
  while [[ $text =~ @(sql|ingest):([a-z_]+)@ ]]; do
    placeholder=${BASH_REMATCH[0]}
    case ${BASH_REMATCH[1]} in
      sql) file="$statements/${BASH_REMATCH[2]}.sql" ;;
      ingest) file="$ingest_statements/${BASH_REMATCH[2]}.sql" ;;
    esac
    [ -f "$file" ] || { echo "isolation: $1 names $file, which does not exist" >&2; return 1; }
    sql=$(cat "$file")
    case $sql in *"}"*) echo "isolation: $file contains '}', which ends an isolationtester block" >&2; return 1 ;; esac
    text=${text//"$placeholder"/"$sql"}
  done
  printf '%s\n' "$text"
}

if [ $# -gt 0 ]; then names=("$@"); else names=(); for f in "$here"/specs/*.spec.in; do names+=("$(basename "$f" .spec.in)"); done; fi
started=$SECONDS
passed=0
failed=()
for name in "${names[@]}"; do
  db="iso_${name//-/_}"
  psql "$url" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null
  dburl=${url/\/postgres\?//$db?}
  for m in "$migrations"/*.sql; do
    psql "$dburl" -qX -v ON_ERROR_STOP=1 -f "$m" >/dev/null
  done
  if grep -q '@ingest:' "$here/specs/$name.spec.in"; then
    # The table the Migrator keeps (Shared/Postgres/Migrator.swift); 0011 grants reads on it.
    psql "$dburl" -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE IF NOT EXISTS schema_migrations (
        component text NOT NULL, version integer NOT NULL, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))" >/dev/null
    for m in "$store_migrations"/*.sql; do
      psql "$dburl" -qX -v ON_ERROR_STOP=1 -f "$m" >/dev/null
    done
  fi
  render "$here/specs/$name.spec.in" >"$work/$name.spec"
  "$tester" "$dburl" <"$work/$name.spec" >"$work/$name.out" 2>&1 || true
  if [ "${TIERGUARD_ISOLATION_ACCEPT:-0}" = 1 ]; then
    cp "$work/$name.out" "$here/expected/$name.out"
    echo "isolation: $name written to expected/$name.out" >&2
  elif diff -u "$here/expected/$name.out" "$work/$name.out" >"$work/$name.diff" 2>&1; then
    passed=$((passed + 1))
    echo "isolation: $name ok" >&2
  else
    failed+=("$name")
    echo "isolation: $name FAILED" >&2
    cat "$work/$name.diff" >&2
  fi
done
echo "isolation: ${passed} passed, ${#failed[@]} failed (${failed[*]:-none}) in $((SECONDS - started)) s" >&2
[ ${#failed[@]} -eq 0 ]
