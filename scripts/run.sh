#!/usr/bin/env bash
# `make run`: starts the Docker Engine when needed, creates the first admin on a fresh
# database (printing its random password once) and runs cloudyad in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
bin="$BUILD/cloudyad"
export CLOUDYA_DATA_DIR=${CLOUDYA_DATA_DIR:-./data}
export PORT=${PORT:-5000}

scripts/dockerd.sh || echo "run: the Docker Engine is not available; cloudyad will report 'degraded'"

# No image registry is needed: the catalog's services are built from Debian packages
# (the first time takes about a minute; then they are reused). With a registry, run with
# CLOUDYA_CATALOG=catalog/catalog.yaml to use the upstream images instead.
if [ -z "${CLOUDYA_CATALOG:-}" ]; then
  export CLOUDYA_CATALOG=catalog/catalog.offline.yaml
  scripts/images.sh all || echo "run: building the service images failed; creating containers will say which image is missing"
fi

"$bin" -n >/dev/null
admins=$("$bin" admin count)
if [ "$admins" = 0 ] && [ -z "${CLOUDYA_ADMIN_EMAIL:-}" ]; then
  email=admin@localhost
  pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  printf '%s\n' "$pw" | "$bin" admin create --email "$email" --password-stdin >/dev/null
  cat <<MSG

  First admin created (this password is shown only once):
    email:    $email
    password: $pw

MSG
fi
cat <<MSG
  Dashboard: http://localhost:$PORT/ (log in with the admin above, or register)
  cloudyad serves the API on http://localhost:$PORT/api (data in $CLOUDYA_DATA_DIR).
  Log in:  curl -s -X POST http://localhost:$PORT/api/auth/login \\
             -H 'Content-Type: application/json' \\
             -d '{"email":"admin@localhost","password":"<password>"}'
  Health:  curl -s http://localhost:$PORT/api/health
  Stop with Ctrl+C.

MSG
exec "$bin"
