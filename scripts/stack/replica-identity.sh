#!/usr/bin/env bash
# The dev stack's listings table with either replica identity (issue 18; debezium/README.md explains
# the trade-off). FULL stays the stack's default (debezium/replication.sql); this script leaves the
# shared monolith database alone unless you name it.
#
#   replica-identity.sh setup [DB]          a database DB (default monolith_default) with the monolith's
#                                           schema and seed, the debezium role's grants and its own
#                                           publication listings_publication, at REPLICA IDENTITY DEFAULT
#   replica-identity.sh default|full [DB]   switch DB's public.listings (default monolith_default)
#   replica-identity.sh show [DB]           print it (d = DEFAULT, f = FULL)
#   replica-identity.sh measure-wal [DB] [N]
#                                           WAL bytes for the same N (default 10000) single-row updates
#                                           under FULL and under DEFAULT, twice each (prints a table);
#                                           restores the table's identity afterwards
#
# Runnable on its own; scripts/stack.sh can call it as `bash "$ROOT/scripts/stack/replica-identity.sh" "$@"`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"
PG_SUPERUSER_PASSWORD="${PG_SUPERUSER_PASSWORD:-postgres}"

psql_su() {
  PGPASSWORD="$PG_SUPERUSER_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres "$@"
}

die() {
  echo "replica-identity: $*" >&2
  exit 1
}

valid_db() {
  [[ "$1" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name must be a plain identifier, got '$1'"
}

setup() {
  local db="$1"
  valid_db "$db"
  if [[ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]]; then
    # Two callers at once (parallel test files): the loser's CREATE fails; the database exists either way.
    psql_su -d postgres -c "CREATE DATABASE $db" 2>/dev/null ||
      [[ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" == "1" ]] ||
      die "could not create database $db"
  fi
  if [[ "$(psql_su -d "$db" -tAc "SELECT to_regclass('public.listings') IS NOT NULL")" != "t" ]]; then
    psql_su -d "$db" -f "$ROOT/debezium/schema.sql" -f "$ROOT/debezium/seed.sql" >/dev/null
  fi
  psql_su -d "$db" >/dev/null <<SQL
SELECT 'CREATE ROLE debezium LOGIN REPLICATION PASSWORD ''debezium'''
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'debezium') \gexec
GRANT CONNECT ON DATABASE $db TO debezium;
GRANT USAGE ON SCHEMA public TO debezium;
GRANT SELECT ON public.listings TO debezium;
ALTER TABLE public.listings REPLICA IDENTITY DEFAULT;
SELECT 'CREATE PUBLICATION listings_publication FOR TABLE public.listings'
  WHERE NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'listings_publication') \gexec
SQL
  echo "replica-identity: $db.public.listings ready, REPLICA IDENTITY $(show "$db")"
}

switch() {
  local db="$1" to="$2"
  valid_db "$db"
  psql_su -d "$db" -c "ALTER TABLE public.listings REPLICA IDENTITY $to"
  echo "replica-identity: $db.public.listings is now REPLICA IDENTITY $(show "$db")"
}

show() {
  local db="$1"
  case "$(psql_su -d "$db" -tAc "SELECT relreplident FROM pg_class WHERE oid = 'public.listings'::regclass")" in
  d) echo DEFAULT ;;
  f) echo FULL ;;
  n) echo NOTHING ;;
  i) echo INDEX ;;
  *) die "no public.listings in $db" ;;
  esac
}

# WAL written by N single-row price updates in one transaction, on rows 1..N of DB's table (rows past
# the seed's 1200 are added first, with a 400-byte description like a real listing's). The same rows
# and updates under each identity, each measured twice, alternating. Two figures: pg_wal_lsn_diff of
# the insert position before and after (the whole cluster's WAL: others' writes meanwhile count too)
# and, from pg_walinspect, the bytes of this transaction's own WAL records alone.
measure_wal() {
  local db="$1" n="$2"
  valid_db "$db"
  local was
  was="$(show "$db")"
  psql_su -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_walinspect" >/dev/null
  psql_su -d "$db" -c "INSERT INTO public.listings (lst_id, lst_ttl, description, prc_amt)
    SELECT g, 'WAL probe ' || g, repeat('A long description of a listing. ', 12), 100
    FROM generate_series(1, $n) g ON CONFLICT (lst_id) DO NOTHING" >/dev/null
  printf '%-8s %-4s %16s %16s %10s\n' identity run lsn_diff_bytes own_wal_bytes per_update
  for run in 1 2; do
    for identity in FULL DEFAULT; do
      psql_su -d "$db" -c "ALTER TABLE public.listings REPLICA IDENTITY $identity" >/dev/null
      local out
      out="$(psql_su -d "$db" -tA -F ' ' <<SQL
CREATE TEMP TABLE m(lsn pg_lsn, xid xid, done pg_lsn);
BEGIN;
INSERT INTO m SELECT pg_current_wal_insert_lsn(), (txid_current() % 4294967296)::text::xid, NULL;
DO \$\$ BEGIN
  FOR i IN 1..$n LOOP
    UPDATE public.listings SET prc_amt = prc_amt + 0.01 WHERE lst_id = i;
  END LOOP;
END \$\$;
COMMIT;
UPDATE m SET done = pg_current_wal_insert_lsn();
SELECT pg_wal_lsn_diff(m.done, m.lsn)::bigint,
       (SELECT sum(w.record_length) FROM pg_get_wal_records_info(m.lsn, pg_current_wal_flush_lsn()) w
         WHERE w.xid = m.xid)
  FROM m;
SQL
)"
      local diff own
      read -r diff own <<<"$out"
      printf '%-8s %-4s %16s %16s %10s\n' "$identity" "$run" "$diff" "$own" "$((own / n))"
    done
  done
  psql_su -d "$db" -c "ALTER TABLE public.listings REPLICA IDENTITY $was" >/dev/null
}

cmd="${1:-}"
db="${2:-monolith_default}"
case "$cmd" in
setup) setup "$db" ;;
default) switch "$db" DEFAULT ;;
full) switch "$db" FULL ;;
show) show "$db" ;;
measure-wal) measure_wal "$db" "${3:-10000}" ;;
*)
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
