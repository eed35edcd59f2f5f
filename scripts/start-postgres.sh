#!/usr/bin/env bash
# Install (Debian's package) and start a local PostgreSQL 15 for the tests, idempotently.
# Creates role/database backflush/backflush_test. Prints what it did; never fails the build by
# itself: the tests report clearly whether PostgreSQL was reachable (and fail under CI=true).
set -u
log() { echo "[postgres] $*"; }
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /usr/lib/postgresql/15 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's postgresql package"
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
      || { log "apt-get install postgresql failed"; exit 0; }
  else
    log "PostgreSQL is not installed and this user cannot install it; PG tests will skip"
    exit 0
  fi
fi
cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
  pg_createcluster 15 main >/dev/null 2>&1 || { log "no cluster and cannot create one"; exit 0; }
  cluster="15 main"
fi
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  log "starting cluster $cluster"
  pg_ctlcluster $cluster start || { log "pg_ctlcluster start failed"; exit 0; }
fi
run_psql() { su postgres -c "psql -v ON_ERROR_STOP=1 -qAt -c \"$1\"" 2>/dev/null; }
if [ "$(id -u)" = 0 ]; then
  [ "$(run_psql "SELECT 1 FROM pg_roles WHERE rolname='backflush'")" = 1 ] || \
    run_psql "CREATE ROLE backflush LOGIN PASSWORD 'backflush' CREATEDB"
  [ "$(run_psql "SELECT 1 FROM pg_database WHERE datname='backflush_test'")" = 1 ] || \
    run_psql "CREATE DATABASE backflush_test OWNER backflush"
fi
log "ready: postgresql+psycopg://backflush:backflush@localhost:5432/backflush_test"
