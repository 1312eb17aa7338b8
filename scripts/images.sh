#!/usr/bin/env bash
# Builds Cloudya's container images offline: no image registry is needed, only Debian's
# packages (the mirror in DEBIAN_MIRROR) and the local Docker Engine.
#
# Usage: scripts/images.sh [test|all|NAME...] [--force]
#   test   busybox nginx                              (what the API test suite needs)
#   all    busybox nginx python node postgres sandbox (what `make run` needs; the default)
#   NAME   any of: busybox nginx python node postgres sandbox
#   --force  rebuild images that already exist (otherwise they are skipped)
#
# Images:
#   cloudya/busybox:test        FROM scratch: Debian's busybox-static, `busybox httpd` on 8080
#   cloudya/nginx:bookworm      nginx-light, index page on 80, logs to stdout/stderr
#   cloudya/python:bookworm     python3 -m http.server 8000 in /srv
#   cloudya/node:bookworm       a tiny node server on 3000 ("Hello from node")
#   cloudya/postgres:bookworm   postgresql-15 behind /usr/local/bin/cloudya-postgres, on 5432
#   cloudya/sandbox:bookworm    the assistant's sandbox: aws, kubectl, ansible, git, jq, curl...
#                               as user sandbox (10001); no network, read-only root at run time
#
# The Debian images start from one `debootstrap --variant=minbase` of bookworm, made once
# and kept in $CLOUDYA_IMAGE_CACHE/bookworm-minbase.tar (default /var/cache/cloudya/images);
# the .deb files downloaded are kept in $CLOUDYA_IMAGE_CACHE/debs, so a rebuild downloads
# nothing new. Delete that directory to start from scratch. Each image: extract the base,
# `apt-get install --no-install-recommends` in a chroot, add our files, strip docs and
# caches, `docker import` with the image's CMD/ENV/EXPOSE/USER/WORKDIR (and STOPSIGNAL).
# The chroots need no /proc or other mounts (only debootstrap mounts some while it runs;
# the EXIT trap unmounts anything left under the work directories before deleting them).
# Trees are built in /dev/shm when it is suitable (see WORK below). Build logs are in
# $CLOUDYA_IMAGE_CACHE/logs. Needs root, debootstrap and busybox-static (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${CLOUDYA_IMAGE_CACHE:-/var/cache/cloudya/images}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
BASE_TAR="$CACHE/$SUITE-minbase.tar"
# The package lists inside the cached base are refreshed (apt-get update in the chroot)
# when the base is older than this many seconds, so images still get security updates.
APT_MAX_AGE=${CLOUDYA_APT_MAX_AGE:-86400}
ALL_IMAGES=(busybox nginx python node postgres sandbox)
TEST_IMAGES=(busybox nginx)

usage() { sed -n '5,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
die() { echo "images: $*" >&2; exit 1; }

# ---- arguments --------------------------------------------------------------------------
force=0
names=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    test) names+=("${TEST_IMAGES[@]}") ;;
    all) names+=("${ALL_IMAGES[@]}") ;;
    busybox | nginx | python | node | postgres | sandbox) names+=("$arg") ;;
    -h | --help) usage ;;
    *) echo "images: unknown image or option '$arg'" >&2; usage ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=("${ALL_IMAGES[@]}")
mapfile -t names < <(printf '%s\n' "${names[@]}" | awk '!seen[$0]++')

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and device nodes need it)"
command -v docker >/dev/null 2>&1 || die "docker is missing: run scripts/deps.sh"
docker version >/dev/null 2>&1 || die "the Docker Engine does not answer: run scripts/dockerd.sh"

mkdir -p "$CACHE/debs" "$CACHE/logs" "$CACHE/work"
# Where root trees are unpacked and built: in RAM (/dev/shm) when it has room and allows
# device nodes and executables (unpacking and deleting a tree there is ~20x faster than on
# disk), else $CACHE/work. CLOUDYA_IMAGE_WORK chooses another directory.
WORK=${CLOUDYA_IMAGE_WORK:-}
if [ -z "$WORK" ]; then
  WORK="$CACHE/work"
  shm_opts=$(findmnt -no OPTIONS /dev/shm 2>/dev/null || true)
  shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
  if [ -n "$shm_opts" ] && [[ ",$shm_opts," != *,nodev,* && ",$shm_opts," != *,noexec,* ]] &&
    [ "${shm_free:-0}" -gt $((2 * 1024 * 1024)) ]; then
    WORK=/dev/shm
  fi
fi
# One build at a time per cache: a second run waits, then finds the images and skips them.
exec 9>"$CACHE/.lock"
flock 9

# ---- helpers ----------------------------------------------------------------------------
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { # milliseconds at start -> "12.3"
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}
image_ref() {
  case "$1" in
    busybox) echo cloudya/busybox:test ;;
    *) echo "cloudya/$1:$SUITE" ;;
  esac
}
human_size() { # image ref -> "93 MB"
  docker image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1000000}'
}

# Work directories of this run; the EXIT trap unmounts whatever may have been mounted
# under them (debootstrap mounts /proc and /sys in its target while it runs) and only then
# deletes them, so a failure never leaves a mount behind nor deletes through one.
workdirs=()
unmount_under() {
  local dir mp mps
  dir=$(realpath -m "$1")
  mapfile -t mps < <(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
  for mp in "${mps[@]}"; do # deepest first
    umount "$mp" 2>/dev/null || umount -l "$mp" || true
  done
  ! awk -v d="$dir/" 'index($2, d) == 1 {found = 1} END {exit !found}' /proc/self/mounts
}
remove_workdir() {
  if unmount_under "$1"; then
    rm -rf --one-file-system "$1"
  else
    echo "images: $1 still has mounts; not deleting it" >&2
  fi
}
cleanup() {
  local d
  for d in "${workdirs[@]}"; do remove_workdir "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
new_workdir() { # NAME VAR: sets VAR to a fresh directory under $WORK
  local d
  d=$(mktemp -d "$WORK/cloudya-image-$1.XXXXXX")
  workdirs+=("$d")
  printf -v "$2" '%s' "$d"
}

# Runs a command inside the chroot $root with a clean environment.
in_chroot() {
  chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    ${http_proxy:+http_proxy="$http_proxy"} ${https_proxy:+https_proxy="$https_proxy"} \
    "$@"
}

# Runs "$@" with its output going to the log $log; on failure shows the end of the log.
logged() {
  if ! "$@" >>"$log" 2>&1; then
    echo "images: '$*' failed; last lines of $log:" >&2
    tail -n 25 "$log" >&2
    return 1
  fi
}

# Removes what an image does not need at run time: docs (but not the copyright files),
# man pages, translations, apt's caches and lists, log files, and the build host's resolver
# config (the Engine provides /etc/resolv.conf, /etc/hosts and /etc/hostname).
slim_tree() {
  local r=$1
  find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$r"/usr/share/{man,info,groff,lintian,linda}/* "$r"/usr/share/locale/*
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
    "$r"/var/lib/dpkg/*-old "$r"/tmp/* "$r"/var/tmp/* "$r"/root/.cache
  # log files, but not the directories or symlinks packages made (nginx's go to stdout)
  find "$r/var/log" -type f -delete
  : >"$r/etc/resolv.conf"
  : >"$r/etc/hostname"
}

# ---- the cached Debian base ---------------------------------------------------------------
# debootstrap --variant=minbase once; configure apt for small images (no recommends, no
# docs/man/locales via dpkg path-exclude, as in Debian's own slim images); apply updates.
ensure_base() {
  [ -s "$BASE_TAR" ] && return 0
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: run scripts/deps.sh"
  local t0 root log
  t0=$(now_ms)
  new_workdir base root
  log="$CACHE/logs/base.log"
  : >"$log"
  logged debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR"
  unmount_under "$root" || die "debootstrap left mounts under $root"

  cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  cat >"$root/etc/apt/apt.conf.d/90cloudya" <<'EOF'
// Cloudya images: smallest install, no translations.
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/90cloudya-slim" <<'EOF'
# Cloudya images: no docs (but keep the copyright files), man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  # Services must never be started in the chroot while packages are installed.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  logged in_chroot apt-get update
  logged in_chroot apt-get -y upgrade
  in_chroot apt-get clean
  # Keep the package lists (a build then needs no `apt-get update` while they are fresh).
  local lists
  new_workdir lists lists
  cp -a "$root/var/lib/apt/lists/." "$lists/"
  slim_tree "$root"
  cp -a "$lists/." "$root/var/lib/apt/lists/"
  tar --numeric-owner --xattrs -C "$root" -cf "$BASE_TAR.tmp" .
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  remove_workdir "$root"
  printf 'base   %-28s debootstrapped in %ss (%s)\n' "$SUITE-minbase" "$(secs_since "$t0")" \
    "$(du -h "$BASE_TAR" | cut -f1)"
}

# ---- building one Debian image ------------------------------------------------------------
# debian_image NAME "PKG..." CUSTOMIZE-FUNCTION CHANGE...
# Extracts the base into a fresh directory, runs prepare_NAME if there is one, installs the
# packages (reusing cached .debs), runs CUSTOMIZE-FUNCTION (both with $root set), slims
# the tree and imports it with the CHANGEs (Dockerfile instructions).
debian_image() {
  local name=$1 pkgs=$2 customize=$3
  shift 3
  local ref root log lists_age
  ref=$(image_ref "$name")
  ensure_base
  new_workdir "$name" root
  log="$CACHE/logs/$name.log"
  : >"$log"
  tar --numeric-owner --xattrs -C "$root" -xpf "$BASE_TAR"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # Earlier downloads (apt checks their hashes, and downloads only what is missing).
  install -d -m 755 "$root/var/cache/apt/archives"
  install -d -m 700 -o "$(in_chroot id -u _apt)" -g 0 "$root/var/cache/apt/archives/partial"
  find "$CACHE/debs" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +

  # No fsync per file while building (the tree is thrown away or imported whole).
  echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/00cloudya-build"
  if declare -F "prepare_$name" >/dev/null; then "prepare_$name"; fi
  lists_age=$(($(date +%s) - $(stat -c %Y "$BASE_TAR")))
  if [ "$lists_age" -gt "$APT_MAX_AGE" ]; then
    logged in_chroot apt-get update
  fi
  # shellcheck disable=SC2086 # pkgs is a list of package names
  if ! logged in_chroot apt-get install -y $pkgs; then
    echo "images: retrying after apt-get update" >&2
    logged in_chroot apt-get update
    # shellcheck disable=SC2086
    logged in_chroot apt-get install -y $pkgs
  fi
  # Keep new downloads for the next build.
  find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$CACHE/debs/" {} +
  in_chroot apt-get clean

  "$customize"

  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/dpkg/dpkg.cfg.d/00cloudya-build"
  slim_tree "$root"
  import_tree "$ref" "$root" "$@"
  remove_workdir "$root"
}

# import_tree REF DIR CHANGE... : `docker import` of DIR (without /dev, /proc, /sys contents:
# the Engine provides those) tagged REF, with the CHANGEs (Dockerfile instructions). The
# Engine's import does not take STOPSIGNAL, so that one is added by a one-line
# `docker build` (legacy builder, no context, no container run) on top of the import.
# An image this replaces is removed when no container uses it.
import_tree() {
  local ref=$1 dir=$2 old id c out stopsignal=""
  shift 2
  local args=(--change "LABEL org.cloudya.built-by=scripts/images.sh"
    --message "built by Cloudya's scripts/images.sh")
  for c in "$@"; do
    case "$c" in
      "STOPSIGNAL "*) stopsignal=${c#STOPSIGNAL } ;;
      *) args+=(--change "$c") ;;
    esac
  done
  old=$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  id=$(tar --numeric-owner --xattrs -C "$dir" \
    --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -c . |
    docker import "${args[@]}" -)
  if [ -n "$stopsignal" ]; then
    if ! out=$(printf 'FROM %s\nSTOPSIGNAL %s\n' "$id" "$stopsignal" |
      DOCKER_BUILDKIT=0 docker build -q -t "$ref" - 2>&1); then
      docker image rm "$id" >/dev/null 2>&1 || true
      die "docker build (STOPSIGNAL) of $ref failed: $out"
    fi
  else
    docker tag "$id" "$ref"
  fi
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$ref")" ]; then
    docker image rm "$old" >/dev/null 2>&1 ||
      echo "images: the previous $ref (${old:7:12}) is still used by a container; it stays" >&2
  fi
}

# ---- the images --------------------------------------------------------------------------

# cloudya/busybox:test -- FROM scratch: the static busybox, one symlink per applet in /bin,
# and a page in /www for `busybox httpd`. Builds in about a second; the API tests' image.
# (busybox-static's wget crashes in glibc's static NSS: use `nc` to test from inside.)
build_busybox() {
  local ref bb root a
  ref=$(image_ref busybox)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" ||
    die "busybox-static is not installed: run scripts/deps.sh"
  bb=$(dpkg -L busybox-static | grep -m1 '/bin/busybox$')
  new_workdir busybox root
  mkdir -p "$root"/{bin,etc,www,tmp,root}
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  cp "$bb" "$root/bin/busybox"
  for a in $("$root/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  cat >"$root/www/index.html" <<'EOF'
<!doctype html>
<title>Cloudya busybox</title>
<p>Hello from busybox httpd (cloudya/busybox:test).</p>
EOF
  # STOPSIGNAL SIGKILL: busybox httpd as PID 1 ignores SIGTERM, so `docker stop` would
  # otherwise wait its whole timeout; the image keeps no state.
  import_tree "$ref" "$root" \
    'ENV PATH=/bin' \
    'WORKDIR /' \
    'EXPOSE 8080' \
    'STOPSIGNAL SIGKILL' \
    'CMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]'
  remove_workdir "$root"
}

# cloudya/nginx:bookworm -- nginx-light: an index page on port 80 (IPv4, so it also starts
# where containers have no IPv6), access log to stdout, error log to stderr, in the
# foreground. The master runs as root (port 80, then workers as www-data).
customize_nginx() {
  ln -sf /dev/stdout "$root/var/log/nginx/access.log"
  ln -sf /dev/stderr "$root/var/log/nginx/error.log"
  # One worker: containers get a fraction of a CPU, and "auto" would count the host's.
  sed -i 's/^worker_processes .*/worker_processes 1;/' "$root/etc/nginx/nginx.conf"
  cat >"$root/etc/nginx/sites-available/default" <<'EOF'
# Cloudya's default site: the page in /var/www/html on port 80.
server {
	listen 80 default_server;
	server_name _;
	root /var/www/html;
	index index.html;
	location / {
		try_files $uri $uri/ =404;
	}
}
EOF
  ln -sf ../sites-available/default "$root/etc/nginx/sites-enabled/default"
  # nginx chowns its temp directories to www-data at each start unless they already are:
  # made here, the master needs no CHOWN capability (only SETUID/SETGID for the workers).
  local d www
  www=$(in_chroot id -u www-data)
  for d in body proxy fastcgi uwsgi scgi; do
    install -d -m 700 -o "$www" -g 0 "$root/var/lib/nginx/$d"
  done
  rm -f "$root/var/www/html/index.nginx-debian.html"
  cat >"$root/var/www/html/index.html" <<'EOF'
<!doctype html>
<title>Cloudya nginx</title>
<h1>Welcome to nginx on Cloudya</h1>
<p>This container serves /var/www/html on port 80.</p>
EOF
}
build_nginx() {
  debian_image nginx "nginx-light" customize_nginx \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    'WORKDIR /' \
    'EXPOSE 80' \
    'STOPSIGNAL SIGQUIT' \
    'CMD ["nginx", "-g", "daemon off;"]'
}

# cloudya/python:bookworm -- python3's http.server on 8000 serving /srv, as nobody.
# STOPSIGNAL SIGINT: python as PID 1 has no SIGTERM handler, but stops cleanly on SIGINT.
customize_python() {
  mkdir -p "$root/srv"
  cat >"$root/srv/index.html" <<'EOF'
<!doctype html>
<title>Cloudya python</title>
<p>Hello from python (python3 -m http.server, serving /srv).</p>
EOF
}
build_python() {
  debian_image python "python3" customize_python \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    'ENV PYTHONUNBUFFERED=1' \
    'WORKDIR /srv' \
    'USER nobody' \
    'EXPOSE 8000' \
    'STOPSIGNAL SIGINT' \
    'CMD ["python3", "-m", "http.server", "8000"]'
}

# cloudya/node:bookworm -- Debian's nodejs running /srv/server.js on 3000, as nobody.
customize_node() {
  mkdir -p "$root/srv"
  cat >"$root/srv/server.js" <<'EOF'
// Cloudya's default node service: answers "Hello from node" on PORT (default 3000).
'use strict';
const http = require('http');
const port = Number(process.env.PORT) || 3000;
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Hello from node\n');
  console.log(`${new Date().toISOString()} ${req.method} ${req.url} 200`);
});
server.listen(port, () => console.log(`listening on port ${port}`));
// As PID 1, node gets no default handler for these: exit at once on `docker stop`.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
EOF
}
build_node() {
  debian_image node "nodejs" customize_node \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    'ENV NODE_ENV=production' \
    'WORKDIR /srv' \
    'USER nobody' \
    'EXPOSE 3000' \
    'CMD ["node", "/srv/server.js"]'
}

# cloudya/postgres:bookworm -- postgresql-15 started by /usr/local/bin/cloudya-postgres,
# which initialises an empty PGDATA the way the official image does. The data directory
# exists in the image, owned by postgres with mode 0700, so a fresh named volume mounted
# there gets that owner. Runs as postgres; STOPSIGNAL SIGINT = fast shutdown.
customize_postgres() {
  local pguid pggid
  # No Debian "main" cluster in the image (also set before install, see build_postgres).
  rm -rf "$root/etc/postgresql/15" "$root/var/lib/postgresql/15"
  # ssl-cert made a snakeoil key while installing: no shared private key in an image.
  rm -f "$root/etc/ssl/private/ssl-cert-snakeoil.key" "$root/etc/ssl/certs/ssl-cert-snakeoil.pem"
  pguid=$(in_chroot id -u postgres)
  pggid=$(in_chroot id -g postgres)
  install -d -m 700 -o "$pguid" -g "$pggid" "$root/var/lib/postgresql/data"
  install -d -m 2775 -o "$pguid" -g "$pggid" "$root/var/run/postgresql"
  cat >"$root/usr/local/bin/cloudya-postgres" <<'EOF'
#!/bin/sh
# cloudya-postgres: Cloudya's entry point for cloudya/postgres:bookworm.
# On an empty PGDATA it runs initdb like the official postgres image does:
#   POSTGRES_PASSWORD (required)  the superuser's password (scram-sha-256)
#   POSTGRES_USER (default postgres)  the superuser's name
#   POSTGRES_DB (default POSTGRES_USER)  a database created for it
# and makes the server listen on all addresses, with password (scram-sha-256) logins from
# anywhere. Then it execs postgres in the foreground ("$@" are extra postgres options).
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA
say() { echo "cloudya-postgres: $*" >&2; }

if [ "$(id -u)" = 0 ]; then
  say "refusing to run as root; run as the postgres user"
  exit 1
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    say "the database is not initialised and POSTGRES_PASSWORD is empty; set it"
    exit 1
  fi
  if [ ! -d "$PGDATA" ] || [ ! -w "$PGDATA" ] || [ ! -O "$PGDATA" ]; then
    say "$PGDATA must be a directory owned by $(id -un) (uid $(id -u))"
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  say "initialising $PGDATA (superuser '$user', database '$db')"
  pwfile=$(mktemp)
  trap 'rm -f "$pwfile"' EXIT
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  {
    echo
    echo "# cloudya-postgres"
    echo "listen_addresses = '*'"
    echo "jit = off # the image has no LLVM"
    echo "password_encryption = scram-sha-256"
  } >>"$PGDATA/postgresql.conf"
  {
    echo
    echo "# cloudya-postgres: password logins from anywhere"
    echo "host all all 0.0.0.0/0 scram-sha-256"
    echo "host all all ::/0 scram-sha-256"
  } >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # A server on the Unix socket only, for the one statement psql quotes safely.
    pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses=''" start
    echo 'CREATE DATABASE :"db";' |
      PGPASSWORD=$POSTGRES_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -v db="$db" \
        -U "$user" -d postgres
    pg_ctl -D "$PGDATA" -w -s -m fast stop
  fi
  say "initialised"
fi
exec postgres -D "$PGDATA" "$@"
EOF
  chmod 755 "$root/usr/local/bin/cloudya-postgres"
}
prepare_postgres() {
  # Debian's postgresql-common would create a "main" cluster while installing.
  mkdir -p "$root/etc/postgresql-common/createcluster.d"
  echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.d/cloudya.conf"
  # Smaller image (-160 MB): no JIT, so neither LLVM (libllvm14 + libz3-4) nor the JIT's
  # files, and no locales package (initdb uses glibc's built-in C.UTF-8; ICU collations
  # remain). A local stand-in package provides the two names postgresql-15 depends on, so
  # dpkg and apt stay consistent.
  cat >"$root/etc/dpkg/dpkg.cfg.d/90cloudya-postgres" <<'EOF'
# cloudya/postgres: PostgreSQL without JIT (see cloudya-postgres-slim)
path-exclude /usr/lib/postgresql/*/lib/llvmjit*
path-exclude /usr/lib/postgresql/*/lib/bitcode/*
EOF
  mkdir -p "$root/tmp/slim/DEBIAN"
  cat >"$root/tmp/slim/DEBIAN/control" <<'EOF'
Package: cloudya-postgres-slim
Version: 1.0
Architecture: all
Maintainer: Cloudya <root@localhost>
Provides: libllvm14, locales
Description: stands in for libllvm14 and locales in cloudya/postgres
 PostgreSQL runs here without JIT and with glibc's built-in C.UTF-8 locale.
EOF
  logged in_chroot dpkg-deb --root-owner-group --build /tmp/slim /tmp/slim.deb
  logged in_chroot dpkg -i /tmp/slim.deb
}
build_postgres() {
  debian_image postgres "postgresql-15" customize_postgres \
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    'ENV PGDATA=/var/lib/postgresql/data' \
    'WORKDIR /var/lib/postgresql' \
    'USER postgres' \
    'EXPOSE 5432' \
    'STOPSIGNAL SIGINT' \
    'CMD ["cloudya-postgres"]'
}

# cloudya/sandbox:bookworm -- where the assistant's suggested commands run (see
# src/assistant/sandbox.c, which adds the run-time lock-down: no network, read-only root,
# a noexec tmpfs on /tmp, no capabilities, memory/CPU/pids limits). The command-line tools
# its knowledge base uses, where Debian bookworm has them. Not packaged by Debian, so not
# here: terraform, helm, eksctl, gcloud. Packaged but left out: azure-cli (~600 MB of
# python3-azure) and docker.io (the Engine itself; with no socket and no network the CLI
# could do nothing). The user sandbox (uid/gid 10001) has HOME=/tmp, the only writable
# place at run time, so ~/.aws, ~/.kube and ~/.ansible land in the tmpfs.
SANDBOX_PACKAGES="awscli kubernetes-client ansible-core git jq curl ca-certificates \
bind9-dnsutils iproute2 iputils-ping procps openssl less file unzip xz-utils yamllint \
python3-yaml"
customize_sandbox() {
  in_chroot groupadd --gid 10001 sandbox
  in_chroot useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
    --shell /bin/sh sandbox
  # ping's file capability (cap_net_raw) is never granted in the sandbox (no capabilities,
  # no-new-privileges): dropped, so ping runs as a plain program (ICMP datagram sockets).
  setcap -r "$root/usr/bin/ping" 2>/dev/null || true
}
build_sandbox() {
  debian_image sandbox "$SANDBOX_PACKAGES" customize_sandbox \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV LANG=C.UTF-8' \
    'ENV HOME=/tmp' \
    'ENV PAGER=cat' \
    'ENV AWS_EC2_METADATA_DISABLED=true' \
    'ENV AWS_PAGER=' \
    'ENV PYTHONDONTWRITEBYTECODE=1' \
    'WORKDIR /tmp' \
    'USER 10001:10001' \
    'CMD ["/bin/sh"]'
}

# ---- main --------------------------------------------------------------------------------
for name in "${names[@]}"; do
  ref=$(image_ref "$name")
  t0=$(now_ms)
  if [ "$force" -eq 0 ] && docker image inspect "$ref" >/dev/null 2>&1; then
    printf 'skip   %-28s exists (%ss; --force rebuilds)\n' "$ref" "$(secs_since "$t0")"
    continue
  fi
  "build_$name"
  printf 'built  %-28s in %ss (%s)\n' "$ref" "$(secs_since "$t0")" "$(human_size "$ref")"
done
