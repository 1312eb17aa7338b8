#!/usr/bin/env bash
# The whole suite (`make test`): installs what is missing, starts a real Docker Engine,
# then runs the banned-function check, the unit tests (plain and under ASan+UBSan), the API
# and CLI tests against the sanitizer builds,
# and the dashboard's browser tests (Chromium). Ends with "total: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
BUILD=${BUILD:-build}
ASAN=${ASAN:-build-asan}
LOGDIR=$(mktemp -d /tmp/cloudya-test.XXXXXX)
passed=0
failed=0

count_meson() { # adds the cmocka test counts of a `meson test` run (build dir in $1)
  local log="$1/meson-logs/testlog.txt" ok fail crashed
  ok=$(grep -oE '\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  fail=$(grep -oE '\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  # a test program that crashed or timed out reports no cmocka summary: count it once
  crashed=$(grep -E '^(Fail|Timeout):' "$2" | awk '{s+=$2} END {print s+0}')
  [ "$fail" -ge "$crashed" ] || fail=$crashed
  passed=$((passed + ok))
  failed=$((failed + fail))
  echo "unit: $ok passed, $fail failed"
}

step_fail() { echo "FAILED: $1"; failed=$((failed + 1)); }

scripts/deps.sh test || { echo "cannot install the test dependencies"; echo "total: 0 passed, 1 failed"; exit 1; }
scripts/dockerd.sh || step_fail "starting the Docker Engine"
echo "== PostgreSQL (a throw-away cluster for this run)"
PGDIR=$(mktemp -d /tmp/cloudya-pg.XXXXXX)  # its own: the postgres user cannot enter LOGDIR
if CLOUDYA_TEST_PG_URL=$(scripts/pg.sh start "$PGDIR"); then
  export CLOUDYA_TEST_PG_URL CLOUDYA_TEST_PG_DIR="$PGDIR"
  trap 'scripts/pg.sh stop "$PGDIR"' EXIT
else
  step_fail "starting PostgreSQL"
fi
echo "== images (built offline from Debian packages; reused when present)"
scripts/images.sh busybox nginx postgres sandbox || step_fail "building the test images"

echo "== banned functions"
if scripts/check-banned.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== build (-Werror)"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dwerror=true >"$LOGDIR/setup.log" || step_fail "meson setup $BUILD"
if ninja -C "$BUILD" >"$LOGDIR/build.log" 2>&1; then
  echo "== unit tests"
  meson test -C "$BUILD" --print-errorlogs >"$LOGDIR/unit.log" 2>&1 || true
  grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout):' "$LOGDIR/unit.log"
  count_meson "$BUILD" "$LOGDIR/unit.log"
else
  cat "$LOGDIR/build.log" | tail -40
  step_fail "build"
fi

echo "== build (ASan + UBSan)"
[ -f "$ASAN/build.ninja" ] || meson setup "$ASAN" -Dwerror=true -Db_sanitize=address,undefined \
  -Db_lundef=false -Dbuildtype=debug >"$LOGDIR/setup-asan.log" || step_fail "meson setup $ASAN"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if ninja -C "$ASAN" >"$LOGDIR/build-asan.log" 2>&1; then
  echo "== unit tests (ASan + UBSan)"
  meson test -C "$ASAN" --print-errorlogs >"$LOGDIR/unit-asan.log" 2>&1 || true
  grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout):' "$LOGDIR/unit-asan.log"
  count_meson "$ASAN" "$LOGDIR/unit-asan.log"

  for suite in api:sqlite api:pg cli:sqlite; do
    dir=${suite%%:*} backend=${suite##*:}
    if [ "$dir" = api ]; then
      echo "== API tests on $backend (pytest, against $ASAN/cloudyad and the real Docker Engine)"
    else
      echo "== CLI tests (pytest: $ASAN/cloudya against $ASAN/cloudyad and the real Docker Engine)"
    fi
    CLOUDYA_TEST_BACKEND=$backend CLOUDYA_BUILD="$PWD/$ASAN" $PY -m pytest tests/$dir -q -p no:cacheprovider 2>&1 | tee "$LOGDIR/$dir-$backend.log"
    summary=$(tail -n 1 "$LOGDIR/$dir-$backend.log")
    p=$(grep -oE '[0-9]+ passed' <<<"$summary" | awk '{print $1}')
    f=$(grep -oE '[0-9]+ (failed|error|errors)' <<<"$summary" | awk '{s+=$1} END {print s+0}')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    [ -n "$p" ] || [ "${f:-0}" -gt 0 ] || step_fail "pytest ($suite) ran no test"
  done

  echo "== browser tests (tests/e2e: playwright-core + Chromium against $ASAN/cloudyad and the real Docker Engine)"
  CLOUDYA_BUILD="$PWD/$ASAN" CLOUDYA_TEST_OUT="$LOGDIR/e2e" tests/e2e/run.sh 2>&1 | tee "$LOGDIR/e2e.log"
  summary=$(tail -n 1 "$LOGDIR/e2e.log")
  p=$(grep -oE '^[0-9]+ passed' <<<"$summary" | awk '{print $1}')
  f=$(grep -oE '[0-9]+ failed' <<<"$summary" | awk '{print $1}')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  [ -n "$p" ] || step_fail "browser tests (no summary line)"
else
  tail -40 "$LOGDIR/build-asan.log"
  step_fail "ASan build"
fi

echo "logs: $LOGDIR"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
