#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the test suite and benchmarks (Debian's postgresql).
#   scripts/pg.sh start DIR   initdb in DIR (owned by the postgres user), start it on a free
#                             port on 127.0.0.1, create the role "cloudya" (LOGIN CREATEDB,
#                             random password) and its database "cloudya"; prints the URL
#                             and writes it to DIR/url
#   scripts/pg.sh stop DIR    stop the cluster and delete DIR
#   scripts/pg.sh restart DIR stop and start it again on the same port (outage tests)
# Needs root (or the postgres user itself) to run the server as "postgres".
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: scripts/pg.sh start|stop|restart DIR" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  "$(dirname "$0")/deps.sh" test >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
as_pg() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
pg_start() {
  local port=$1 ssl=""
  # TLS with a throw-away self-signed certificate, so sslmode=require can be tested.
  [ -f "$dir/server.crt" ] && ssl="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 $ssl" start >/dev/null
}
case "$cmd" in
start)
  mkdir -p "$dir"
  chown postgres: "$dir" 2>/dev/null || true
  chmod 0700 "$dir"
  pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  printf '%s\n' "$pw" >"$dir/.pw"
  chown postgres: "$dir/.pw" 2>/dev/null || true
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cloudya-test-pg" \
      -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 || true
    chown postgres: "$dir/server.key" "$dir/server.crt" 2>/dev/null || true
    chmod 0600 "$dir/server.key" 2>/dev/null || true
  fi
  port=$(free_port)
  echo "$port" >"$dir/port"
  pg_start "$port"
  as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE cloudya LOGIN CREATEDB PASSWORD '$pw'" -c "CREATE DATABASE cloudya OWNER cloudya" >/dev/null
  url="postgresql://cloudya:$pw@127.0.0.1:$port/cloudya"
  printf '%s\n' "$url" >"$dir/url"
  echo "$url"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
restart)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  pg_start "$(cat "$dir/port")"
  ;;
*)
  echo "usage: scripts/pg.sh start|stop|restart DIR" >&2
  exit 2
  ;;
esac
