#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer target of BUILD for SECONDS on its seed corpus.
# New inputs go to a scratch directory; crashes are saved under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
mkdir -p fuzz/artifacts
status=0
for bin in "$BUILD"/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=${bin##*/fuzz_}
  scratch=$(mktemp -d)
  echo "== fuzz $name for ${SECONDS_EACH}s"
  if ! "$bin" -max_total_time="$SECONDS_EACH" -artifact_prefix=fuzz/artifacts/"$name"- \
       -print_final_stats=1 "$scratch" "fuzz/corpus/$name" 2>"$scratch.log"; then
    status=1
    echo "fuzz $name: FAILED (see fuzz/artifacts/ and $scratch.log)"
  fi
  grep -E 'stat::number_of_executed_units|ERROR' "$scratch.log" || true
  rm -rf "$scratch"
done
exit $status
