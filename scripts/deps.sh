#!/usr/bin/env bash
# Installs what building, running and testing Cloudya needs, from Debian's packages.
# Idempotent: a library that pkg-config already finds, or a tool already on PATH, is skipped.
# Usage: scripts/deps.sh [build|test|all]   (default: build = what `make run` needs)
set -euo pipefail

want=${1:-build}
missing=()

# need_pc PKG-CONFIG-NAME DEBIAN-PACKAGE
need_pc() { pkg-config --exists "$1" 2>/dev/null || missing+=("$2"); }
# need_cmd COMMAND DEBIAN-PACKAGE
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
# need_pkg DEBIAN-PACKAGE (for things with neither a .pc file nor a command)
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" || missing+=("$1"); }

need_cmd pkg-config pkg-config
need_cmd cc gcc
need_cmd meson meson
need_cmd ninja ninja-build
need_pc libmicrohttpd libmicrohttpd-dev
need_pc jansson libjansson-dev
need_pc libsodium libsodium-dev
need_pc libcurl libcurl4-openssl-dev
need_pc sqlite3 libsqlite3-dev
need_pc yaml-0.1 libyaml-dev
need_pc inih libinih-dev
need_pkg libwslay-dev   # ships no .pc file
need_pc libpq libpq-dev
need_pc libcrypto libssl-dev # SHA-1 for the WebSocket handshake
need_pc libedit libedit-dev
need_pc ncursesw libncurses-dev
need_cmd dockerd docker.io
need_cmd node nodejs   # builds the dashboard (web/build.mjs)
need_cmd npm npm       # installs its locked dependencies from the npm registry
# scripts/images.sh builds the service images offline (make run needs them)
need_pkg debootstrap # in /usr/sbin, often not on a user's PATH
need_pkg busybox-static # its /bin/busybox goes into cloudya/busybox:test

if [ "$want" = test ] || [ "$want" = all ]; then
  need_pc cmocka libcmocka-dev
  need_cmd clang-14 clang-14
  need_pkg libclang-rt-14-dev
  need_cmd wrk wrk
  need_pkg time   # /usr/bin/time: peak RSS in bench/cli.py
  need_cmd curl curl
  need_pkg python3-pytest
  need_pkg python3-requests
  need_pkg python3-websocket
  need_pkg python3-psycopg2
  need_pkg postgresql     # a throw-away cluster per test run (scripts/pg.sh)
  need_cmd promtool prometheus # `promtool check metrics` on /metrics
  need_cmd tmux tmux           # drives `cloudya top` in the CLI tests
  need_cmd chromium chromium   # the browser tests (tests/e2e/, playwright-core)
  need_cmd ansible-playbook ansible-core # `cloudya app` and `stack` run for real in tests/cli
  need_pkg nginx                # `cloudya monitor --service` and `diagnose service` on a real one
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: everything needed is installed"
  exit 0
fi

# Deduplicate while keeping order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists at most once an hour.
stamp=/var/lib/apt/periodic/update-success-stamp
lists_age=$(( $(date +%s) - $(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0) ))
if [ ! -e "$stamp" ] || [ "$lists_age" -gt 3600 ]; then
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
