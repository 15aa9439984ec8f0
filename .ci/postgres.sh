#!/usr/bin/env bash
# Make sure a PostgreSQL server answers for the test suite and export WALDO_TEST_PG_URL.
# Order: an existing WALDO_TEST_PG_URL; the machine's server on 127.0.0.1:5432 (started
# with pg_ctlcluster if installed but down); else a private cluster in a temp folder.
set -euo pipefail

pg_answers() { python - "$1" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}

if [[ -n "${WALDO_TEST_PG_URL:-}" ]] && pg_answers "$WALDO_TEST_PG_URL"; then
  echo "PostgreSQL: using WALDO_TEST_PG_URL"; return 0 2>/dev/null || exit 0
fi

DEFAULT_URL="postgresql://postgres@127.0.0.1:5432/test"
if pg_answers "$DEFAULT_URL"; then
  export WALDO_TEST_PG_URL="$DEFAULT_URL"; echo "PostgreSQL: machine server at 127.0.0.1:5432"
  return 0 2>/dev/null || exit 0
fi

if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -1)" main start || true
  for _ in $(seq 1 30); do pg_answers "$DEFAULT_URL" && break; sleep 1; done
  if pg_answers "$DEFAULT_URL"; then
    export WALDO_TEST_PG_URL="$DEFAULT_URL"; echo "PostgreSQL: started the machine cluster"
    return 0 2>/dev/null || exit 0
  fi
  # The cluster may lack the `test` database: try the postgres database and create it.
  if pg_answers "postgresql://postgres@127.0.0.1:5432/postgres"; then
    psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test" >/dev/null 2>&1 || true
    export WALDO_TEST_PG_URL="$DEFAULT_URL"; echo "PostgreSQL: machine cluster, created database test"
    return 0 2>/dev/null || exit 0
  fi
fi

# Last resort: a private cluster (initdb refuses root, so run it as postgres if we are root).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  echo "PostgreSQL: installing server binaries"; apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | tail -1)")"
PGTMP="$(mktemp -d /tmp/waldo-ci-pg.XXXXXX)"
PORT=55432
RUN=()
if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$PGTMP"; RUN=(runuser -u postgres --); fi
"${RUN[@]}" "$BIN/initdb" -D "$PGTMP/data" -A trust -U postgres >/dev/null
"${RUN[@]}" "$BIN/pg_ctl" -D "$PGTMP/data" -o "-p $PORT -k $PGTMP -c listen_addresses=127.0.0.1" -l "$PGTMP/log" -w start >/dev/null
"${RUN[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres test
export WALDO_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PORT/test"
echo "PostgreSQL: private cluster in $PGTMP on port $PORT"
