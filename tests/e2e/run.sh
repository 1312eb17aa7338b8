#!/usr/bin/env bash
# The browser tests: playwright-core (web/node_modules) drives Debian's Chromium, headless,
# against a real cloudyad serving web/dist and a real Docker Engine. Each tests/e2e/*.test.mjs
# starts its own daemon (with a first admin and the fast busybox catalog) and removes what it
# created. Ends with the line "N passed, N failed"; exits non-zero when a test failed.
#
#   CLOUDYA_BUILD       the directory holding cloudyad (default: build)
#   CLOUDYA_TEST_OUT    screenshots and daemon logs (default: /tmp/cloudya-e2e)
#   CLOUDYA_UPDATE_SCREENSHOT=1   also copies the dashboard's screenshot to docs/dashboard.png
#   CLOUDYA_E2E_HEADED=1          shows the browser (needs a display)
#   tests/e2e/run.sh [FILE ...]   runs only these files (paths, or names like client)
set -uo pipefail
# test files named on the command line: paths (from here) or names (client, admin.test.mjs)
args=()
for a in "$@"; do
  if [ -f "$a" ]; then args+=("$(realpath "$a")"); else args+=("$a"); fi
done
cd "$(dirname "$0")/../.."
REPO=$PWD
export CLOUDYA_BUILD=$(realpath -m "${CLOUDYA_BUILD:-build}")
export CLOUDYA_TEST_OUT=${CLOUDYA_TEST_OUT:-/tmp/cloudya-e2e}
CHROMIUM=${CLOUDYA_CHROMIUM:-/usr/bin/chromium}
mkdir -p "$CLOUDYA_TEST_OUT"

passed=0
failed=0
fail_setup() {
  echo "e2e: $1" >&2
  echo "0 passed, 1 failed"
  exit 1
}

command -v node >/dev/null || fail_setup "node is not installed (apt-get install nodejs npm)"
[ -x "$CHROMIUM" ] || fail_setup "no Chromium at $CHROMIUM (apt-get install chromium)"
[ -x "$CLOUDYA_BUILD/cloudyad" ] || fail_setup "no cloudyad in $CLOUDYA_BUILD (run make)"
docker info >/dev/null 2>&1 || fail_setup "the Docker Engine does not answer (scripts/dockerd.sh)"
docker image inspect cloudya/busybox:test >/dev/null 2>&1 ||
  fail_setup "the test image cloudya/busybox:test is missing (scripts/images.sh busybox)"

# the dashboard and its test driver, from the lock file
if [ ! -f web/node_modules/playwright-core/package.json ] || [ ! -f web/node_modules/esbuild/package.json ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error) || fail_setup "npm ci in web/ failed"
fi
(cd web && node build.mjs) || fail_setup "building the dashboard (web/build.mjs) failed"

files=()
for a in ${args[@]+"${args[@]}"}; do
  for f in "$a" "tests/e2e/$a" "tests/e2e/$a.test.mjs"; do
    if [ -f "$f" ]; then files+=("$f"); continue 2; fi
  done
  fail_setup "no test file $a"
done
[ ${#files[@]} -gt 0 ] || files=(tests/e2e/*.test.mjs)

for f in "${files[@]}"; do
  name=$(basename "$f" .test.mjs)
  log="$CLOUDYA_TEST_OUT/$name.tap"
  echo "== e2e: $name"
  # one file at a time (each drives a browser and a daemon); TAP for the counts
  timeout --kill-after=30 900 node --test --test-reporter=tap "$f" >"$log" 2>&1
  rc=$?
  # the test points and their failures, readable
  grep -E '^ *(not )?ok [0-9]+ - |^ *# (Subtest|tests|pass|fail)' "$log" | grep -vE '^ *# Subtest' || true
  p=$(grep -E '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
  n=$(grep -E '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
  c=$(grep -E '^# cancelled [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
  n=$((n + c))
  if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
    n=1 # the file itself failed (a syntax error, a crash before any test)
  fi
  if [ "$n" -gt 0 ]; then
    echo "-- failures in $name (full log: $log)"
    grep -A25 -E '^ *not ok ' "$log" | head -120
  fi
  passed=$((passed + p))
  failed=$((failed + n))
done

echo "screenshots and logs: $CLOUDYA_TEST_OUT"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
