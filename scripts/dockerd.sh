#!/usr/bin/env bash
# Makes sure a Docker Engine answers on DOCKER_SOCKET (default /var/run/docker.sock):
# installs Debian's docker.io when dockerd is missing and starts dockerd in the background.
set -euo pipefail
sock=${DOCKER_SOCKET:-/var/run/docker.sock}
ping() { curl -sf --max-time 2 --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; }
if ping; then
  exit 0
fi
command -v dockerd >/dev/null 2>&1 || "$(dirname "$0")/deps.sh" build
command -v curl >/dev/null 2>&1 || { apt-get install -y -qq curl >/dev/null; }
if [ "$sock" != /var/run/docker.sock ]; then
  echo "dockerd.sh: nothing answers on $sock, and only /var/run/docker.sock is started here" >&2
  exit 1
fi
log=${DOCKERD_LOG:-/var/log/cloudya-dockerd.log}
echo "dockerd.sh: starting dockerd (log: $log)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# containerd comes with docker.io; dockerd starts its own when none runs.
$SUDO sh -c "nohup dockerd >'$log' 2>&1 &"
for _ in $(seq 1 60); do
  ping && { echo "dockerd.sh: Docker Engine is up"; exit 0; }
  sleep 0.5
done
echo "dockerd.sh: dockerd did not answer within 30 s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
