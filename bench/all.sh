#!/usr/bin/env bash
# `make bench`: every benchmark on both storage backends, side by side in bench/RESULTS.md
# (sections "http", "containers", "stats", "cli" for SQLite and "http-pg", "containers-pg", "stats-pg"
# for PostgreSQL,
# on a throw-away cluster started by scripts/pg.sh, a fresh database per script).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/run_http.sh
bench/containers.sh
/usr/bin/python3 bench/stats.py
/usr/bin/python3 bench/cli.py   # the command line: start-up, ps/top/stats wall time and RSS
bench/assistant.sh              # knowledge base load, offline answers, validator, sandbox
/usr/bin/python3 bench/devops.py # deploy/app/stack: listings and what the runner adds to the tools
/usr/bin/python3 bench/monitor.py # monitor/diagnose: CPU and RSS per sample, report over 14 days
pgdir=$(mktemp -d /tmp/cloudya-bench-pg.XXXXXX)
trap 'scripts/pg.sh stop "$pgdir"' EXIT
url=$(scripts/pg.sh start "$pgdir")
for script in run_http containers; do
  db="bench_${script}_$$"
  psql "$url" -qAt -c "CREATE DATABASE $db" >/dev/null
  BENCH_DB_URL="${url%/*}/$db" BENCH_SUFFIX=-pg BENCH_BACKEND_NAME=PostgreSQL "bench/$script.sh"
done
# The sampler does not touch the database: on PostgreSQL only the request paths are compared.
psql "$url" -qAt -c "CREATE DATABASE bench_stats_$$" >/dev/null
BENCH_DB_URL="${url%/*}/bench_stats_$$" BENCH_SUFFIX=-pg BENCH_STEPS=200 /usr/bin/python3 bench/stats.py
