#!/usr/bin/env bash
# The assistant's figures (section "assistant" of bench/RESULTS.md): knowledge base load time,
# offline answer latency, validator throughput and a sandboxed command's wall time, from
# build/bench_assistant (bench/assistant_bench.c) on the real knowledge/ and the real Engine.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD=${CLOUDYA_BUILD:-build}
RESULTS=${BENCH_RESULTS:-bench/RESULTS.md}
section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
  echo "<!-- assistant:begin -->"
  echo "## Assistant: \`bench/assistant.sh\`"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) CPUs (\`$BUILD/bench_assistant knowledge ${BENCH_ROUNDS:-50}\`)."
  echo
  "$BUILD/bench_assistant" knowledge "${BENCH_ROUNDS:-50}"
  echo "<!-- assistant:end -->"
} >"$section"
write_section "$RESULTS" assistant "$section"
