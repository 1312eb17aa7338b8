#!/usr/bin/env bash
# Fails when src/ calls a banned libc function (see docs/architecture.md, house style).
set -euo pipefail
cd "$(dirname "$0")/.."
hits=$(grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|strtok|gets|atoi)\s*\(' src tools fuzz \
        --include='*.c' --include='*.h' | grep -vE '\b(snprintf|vsnprintf)\s*\(' || true)
# grep's \b matches inside snprintf too; keep only real calls.
hits=$(printf '%s\n' "$hits" | grep -E '(^|[^a-z_])(sprintf|vsprintf|strcpy|strcat|strtok|gets|atoi)\s*\(' || true)
if [ -n "$hits" ]; then
  echo "banned functions used (use snprintf, str_copy, strtol/str_to_int64):"
  echo "$hits"
  echo "check-banned: 0 passed, 1 failed"
  exit 1
fi
echo "check-banned: 1 passed, 0 failed"
