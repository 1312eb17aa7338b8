#!/usr/bin/env bash
# `make bench`: every benchmark on both storage backends, side by side in bench/RESULTS.md
# (sections "http", "containers" for SQLite and "http-pg", "containers-pg" for PostgreSQL,
# on a throw-away cluster started by scripts/pg.sh, a fresh database per script).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/run_http.sh
bench/containers.sh
pgdir=$(mktemp -d /tmp/cloudya-bench-pg.XXXXXX)
trap 'scripts/pg.sh stop "$pgdir"' EXIT
url=$(scripts/pg.sh start "$pgdir")
for script in run_http containers; do
  db="bench_${script}_$$"
  psql "$url" -qAt -c "CREATE DATABASE $db" >/dev/null
  BENCH_DB_URL="${url%/*}/$db" BENCH_SUFFIX=-pg BENCH_BACKEND_NAME=PostgreSQL "bench/$script.sh"
done
