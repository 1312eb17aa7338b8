#!/usr/bin/env bash
# Container benchmark of cloudyad on the real Docker Engine:
#  1. create+start latency through POST /api/containers/create versus the same work sent
#     straight to the Engine API (create, start, inspect) with curl over the unix socket;
#  2. GET /api/containers for a tenant with 200 running containers, under wrk.
# Builds nothing. Writes the section between <!-- containers:begin --> and
# <!-- containers:end --> of bench/RESULTS.md. Removes every container, volume and network it
# made, however it exits.
#
# Usage: bench/containers.sh          (from anywhere; expects build/cloudyad, a Docker Engine
#                                      and the image cloudya/busybox:test: scripts/images.sh busybox)
# Env:   CLOUDYA_BUILD     build directory (default <repo>/build)
#        DOCKER_SOCKET     Engine socket (default /var/run/docker.sock)
#        BENCH_CREATES     sequential creates of each kind in part 1 (default 30)
#        BENCH_CONTAINERS  running containers for the list in part 2 (default 200)
#        BENCH_PARALLEL    parallel creates/deletes in part 2 (default 4)
#        BENCH_DURATION    wrk duration (default 10s)
#        BENCH_RESULTS     output file (default bench/RESULTS.md)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
bin=${CLOUDYA_BUILD:-$root/build}/cloudyad
sock=${DOCKER_SOCKET:-/var/run/docker.sock}
ncreate=${BENCH_CREATES:-30}
nlist=${BENCH_CONTAINERS:-200}
par=${BENCH_PARALLEL:-4}
duration=${BENCH_DURATION:-10s}
results=${BENCH_RESULTS:-$here/RESULTS.md}
image=cloudya/busybox:test
api=v1.41
py=/usr/bin/python3

die() { echo "containers.sh: $*" >&2; exit 1; }
case $duration in
  *[0-9]s) duration_s=${duration%s} ;;
  *[0-9]) duration_s=$duration; duration=${duration}s ;;
  *) die "BENCH_DURATION must look like 10s (got $duration)" ;;
esac
[ -x "$bin" ] || die "$bin not found (run make first, or set CLOUDYA_BUILD)"
for c in wrk curl docker; do command -v $c >/dev/null || die "$c is not installed"; done
[ -x "$py" ] || die "$py is not installed"
[ -S "$sock" ] || die "no Docker Engine socket at $sock (bash scripts/dockerd.sh)"
dcurl() { curl -sS --max-time 60 --unix-socket "$sock" "$@"; }
[ "$(dcurl -o /dev/null -w '%{http_code}' http://docker/_ping 2>/dev/null)" = 200 ] ||
  die "the Docker Engine does not answer on $sock (bash scripts/dockerd.sh)"
[ "$(dcurl -o /dev/null -w '%{http_code}' "http://docker/$api/images/$image/json")" = 200 ] ||
  die "image $image is missing (scripts/images.sh busybox)"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
others=$(docker ps -q | wc -l)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cloudya-bench-ctr.XXXXXX")
run=$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')   # labels and names this run's direct containers
pid=""
instance=""
cleanup() {
  set +e
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  # Safety net: whatever the API did not remove, by label (this instance's, and this run's
  # direct containers), then the volumes and the tenant network.
  local left
  left=$( { [ -z "$instance" ] || docker ps -aq --filter "label=com.cloudya.instance=$instance"
            docker ps -aq --filter "label=com.cloudya.bench=$run"; } | sort -u)
  if [ -n "$left" ]; then
    echo "containers.sh: removing $(printf '%s\n' "$left" | wc -l) leftover containers" >&2
    printf '%s\n' "$left" | xargs docker rm -f -v >/dev/null
  fi
  if [ -n "$instance" ]; then
    docker volume ls -q --filter "label=com.cloudya.instance=$instance" | xargs -r docker volume rm -f >/dev/null
    docker network ls -q --filter "label=com.cloudya.instance=$instance" | xargs -r docker network rm >/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=""
for _ in $(seq 100); do
  p=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || die "no free port found"
base="http://127.0.0.1:$port"
ccurl() { curl --noproxy '*' -sS --max-time 60 "$@"; }

secret=$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
mkdir -p "$tmp/data"
detach=""
command -v setsid >/dev/null && detach=setsid
env -u DATABASE_URL -u LOG_FORMAT -u DOCKER_SOCKET \
  ${BENCH_DB_URL:+DATABASE_URL=$BENCH_DB_URL} PORT="$port" HOST=127.0.0.1 CLOUDYA_DATA_DIR="$tmp/data" JWT_SECRET="$secret" \
  CLOUDYA_CATALOG="$root/tests/api/catalog.test.yaml" LOG_LEVEL=warn DOCKER_SOCKET="$sock" \
  CLOUDYA_QUOTA_CONTAINERS=300 CLOUDYA_QUOTA_MEMORY_MB=40000 CLOUDYA_QUOTA_CPUS=64 \
  $detach "$bin" 2>"$tmp/cloudyad.log" </dev/null &
pid=$!
ready=""
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/cloudyad.log" >&2; die "cloudyad exited during startup"; }
  if ccurl -o /dev/null --max-time 1 "$base/api/health" 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { cat "$tmp/cloudyad.log" >&2; die "cloudyad did not answer on $base within 10 s"; }
if [ -n "${BENCH_DB_URL:-}" ]; then
  instance=$(psql "$BENCH_DB_URL" -qAt -c "SELECT value FROM meta WHERE key = 'instance_id'")
else
  instance=$("$py" -c 'import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
print(c.execute("SELECT value FROM meta WHERE key = ?", ("instance_id",)).fetchone()[0])' \
    "$tmp/data/cloudya.db")
fi
[ -n "$instance" ] || die "no instance_id in the database"
version=$("$bin" --version 2>/dev/null | head -n1 || echo "cloudyad ?")

reg=$(ccurl -X POST -H 'Content-Type: application/json' \
  -d '{"email":"bench-containers@example.test","password":"bench-password-1","name":"Bench"}' \
  -w '\n%{http_code}' "$base/api/auth/register")
[ "${reg##*$'\n'}" = 201 ] || die "register answered ${reg##*$'\n'}: ${reg%$'\n'*}"
token=$(printf '%s' "${reg%$'\n'*}" | sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
[ -n "$token" ] || die "no token in the register answer"

# api_create NAME -> "status seconds" (curl's time_total: request sent to 201 received)
api_create() {
  ccurl -o "$tmp/create.out" -w '%{http_code} %{time_total}' -X POST \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"serviceType\":\"nginx\",\"name\":\"$1\"}" "$base/api/containers/create"
}
api_delete() {
  ccurl -o /dev/null -w '%{http_code} %{time_total}' -X DELETE \
    -H "Authorization: Bearer $token" "$base/api/containers/$1"
}

# --- 1. create+start latency --------------------------------------------------------------
echo "== warm-up: 2 creates through cloudyad (the first makes the tenant network)"
for n in warm-1 warm-2; do
  r=$(api_create "$n")
  [ "${r%% *}" = 201 ] || { cat "$tmp/create.out" >&2; die "create $n answered ${r%% *}"; }
done
tenant_id=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["containerId"])' "$tmp/create.out")

# The direct body: cloudyad's HostConfig as the Engine recorded it for warm-2.
dcurl -o "$tmp/inspect.json" "http://docker/$api/containers/$tenant_id/json"
"$py" - "$tmp/inspect.json" "$run" "$image" >"$tmp/direct-body.json" <<'PY'
import json, sys
ins = json.load(open(sys.argv[1]))
hc = ins["HostConfig"]
keep = ["Memory", "MemorySwap", "NanoCpus", "PidsLimit", "SecurityOpt", "CapDrop", "CapAdd",
        "PortBindings", "NetworkMode", "Init", "RestartPolicy", "LogConfig", "Privileged",
        "ReadonlyRootfs", "CgroupnsMode", "IpcMode"]
host = {k: hc[k] for k in keep if k in hc}
for bindings in host["PortBindings"].values():
    for b in bindings:
        b["HostPort"] = ""
net = host["NetworkMode"]
body = {
    "Image": sys.argv[3],
    "Hostname": "__NAME__",
    "Cmd": ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"],
    "Env": [],
    "Labels": {"com.cloudya.bench": sys.argv[2], "com.cloudya.bench.kind": "direct"},
    "ExposedPorts": {k: {} for k in host["PortBindings"]},
    "HostConfig": host,
    "NetworkingConfig": {"EndpointsConfig": {net: {}}},
}
json.dump(body, sys.stdout, separators=(",", ":"))
PY
network=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["HostConfig"]["NetworkMode"])' "$tmp/direct-body.json")

# direct_create NAME -> "create_s start_s inspect_s" (curl's time_total of each call; one
# curl process, so its start-up is not counted, as cloudyad's is not)
direct_create() {
  local name=$1 out
  sed "s/__NAME__/$name/" "$tmp/direct-body.json" >"$tmp/body.json"
  out=$(dcurl -w '\n@%{http_code} %{time_total}\n' -X POST -H 'Content-Type: application/json' \
          --data-binary "@$tmp/body.json" "http://docker/$api/containers/create?name=$name" \
        --next --unix-socket "$sock" -sS --max-time 60 -w '\n@%{http_code} %{time_total}\n' \
          -X POST "http://docker/$api/containers/$name/start" \
        --next --unix-socket "$sock" -sS --max-time 60 -w '\n@%{http_code} %{time_total}\n' \
          "http://docker/$api/containers/$name/json")
  local codes times hostport
  codes=$(printf '%s\n' "$out" | sed -n 's/^@\([0-9]*\) .*/\1/p' | tr '\n' ' ')
  times=$(printf '%s\n' "$out" | sed -n 's/^@[0-9]* \(.*\)/\1/p' | tr '\n' ' ')
  hostport=$(printf '%s\n' "$out" | grep -o '"80/tcp":\[{"HostIp":"[^"]*","HostPort":"[0-9][0-9]*"' |
             head -n1 | sed 's/.*"HostPort":"//; s/"$//')
  [ "$codes" = "201 204 200 " ] || { printf '%s\n' "$out" >&2; die "direct create of $name answered $codes"; }
  [ -n "$hostport" ] || die "direct create of $name: no published port in inspect"
  echo "$times"
}
direct_delete() {
  dcurl -o /dev/null -w '%{http_code} %{time_total}' -X DELETE \
    "http://docker/$api/containers/$1?force=1&v=1"
}

echo "== warm-up: 2 direct creates"
direct_create "cyb-$run-warm-1" >/dev/null
direct_create "cyb-$run-warm-2" >/dev/null

echo "== $ncreate creates of each kind, alternating"
: >"$tmp/api.times"; : >"$tmp/direct.times"
for i in $(seq "$ncreate"); do
  r=$(api_create "lat-$i")
  [ "${r%% *}" = 201 ] || { cat "$tmp/create.out" >&2; die "create lat-$i answered ${r%% *}"; }
  echo "${r#* }" >>"$tmp/api.times"
  direct_create "cyb-$run-$i" >>"$tmp/direct.times"
  printf '.'
done
echo

echo "== removing them"
: >"$tmp/api-del.times"; : >"$tmp/direct-del.times"
for n in warm-1 warm-2 $(seq -f 'lat-%g' "$ncreate"); do
  r=$(api_delete "$n")
  [ "${r%% *}" = 204 ] || [ "${r%% *}" = 200 ] || die "DELETE $n answered ${r%% *}"
  case $n in lat-*) echo "${r#* }" >>"$tmp/api-del.times" ;; esac
done
for n in warm-1 warm-2 $(seq "$ncreate"); do
  r=$(direct_delete "cyb-$run-$n")
  [ "${r%% *}" = 204 ] || die "direct DELETE cyb-$run-$n answered ${r%% *}"
  case $n in warm-*) ;; *) echo "${r#* }" >>"$tmp/direct-del.times" ;; esac
done

# --- 2. the list with $nlist running containers ---------------------------------------------
echo "== creating $nlist containers, $par at a time"
t0=$(date +%s.%N)
seq -f 'list-%03g' "$nlist" | xargs -P "$par" -I{} curl --noproxy '*' -sS --max-time 60 \
  -o /dev/null -w '{} %{http_code} %{time_total}\n' -X POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"serviceType":"nginx","name":"{}"}' \
  "$base/api/containers/create" >"$tmp/bulk.out"
t1=$(date +%s.%N)
bad=$(awk '$2 != 201' "$tmp/bulk.out" | head -n5)
[ -z "$bad" ] || die "some creates failed: $bad"
bulk_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')

list_code=$(ccurl -o "$tmp/list.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -H 'Accept-Encoding: identity' "$base/api/containers")
[ "$list_code" = 200 ] || die "GET /api/containers answered $list_code"
read -r list_n list_running list_bytes < <("$py" -c 'import json, os, sys
j = json.load(open(sys.argv[1]))
print(len(j), sum(1 for c in j if c.get("status") == "running"), os.path.getsize(sys.argv[1]))' "$tmp/list.json")
[ "$list_n" = "$nlist" ] || die "the list has $list_n containers, expected $nlist"
engine_running=$(docker ps -q --filter "label=com.cloudya.instance=$instance" --filter status=running | wc -l)
[ "$engine_running" = "$nlist" ] || die "the Engine runs $engine_running of our containers, expected $nlist"

run_wrk() {
  local name=$1; shift
  local t0=$SECONDS
  CLOUDYA_TOKEN=$token wrk "$@" -d"$duration" --latency -s "$here/wrk_auth.lua" \
    "$base/api/containers" >"$tmp/$name.wrk" 2>&1 || { cat "$tmp/$name.wrk" >&2; die "wrk failed"; }
  if [ $((SECONDS - t0 + 1)) -lt "$duration_s" ]; then
    cat "$tmp/$name.wrk" >&2; die "wrk stopped after $((SECONDS - t0)) s of $duration: interrupted"
  fi
  kill -0 "$pid" 2>/dev/null || { tail -n 50 "$tmp/cloudyad.log" >&2; die "cloudyad died under load"; }
  cat "$tmp/$name.wrk"
}
echo "== wrk GET /api/containers, 2 threads, 16 connections"
run_wrk c16 -t2 -c16
echo "== wrk GET /api/containers, 1 thread, 1 connection"
run_wrk c1 -t1 -c1

echo "== deleting the $nlist containers, $par at a time"
t0=$(date +%s.%N)
seq -f 'list-%03g' "$nlist" | xargs -P "$par" -I{} curl --noproxy '*' -sS --max-time 60 \
  -o /dev/null -w '{} %{http_code}\n' -X DELETE -H "Authorization: Bearer $token" \
  "$base/api/containers/{}" >"$tmp/bulkdel.out"
t1=$(date +%s.%N)
bad=$(awk '$2 != 204 && $2 != 200' "$tmp/bulkdel.out" | head -n5)
[ -z "$bad" ] || echo "containers.sh: some deletes failed (the safety net removes them): $bad" >&2
bulkdel_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
left=$(docker ps -aq --filter "label=com.cloudya.instance=$instance" | wc -l)

# --- figures ------------------------------------------------------------------------------
stats=$("$py" - "$tmp" <<'PY'
import statistics, sys
d = sys.argv[1]
def col(f, i=None):
    rows = [l.split() for l in open(d + "/" + f) if l.strip()]
    return [1000 * (sum(map(float, r)) if i is None else float(r[i])) for r in rows]
def pct(v, p):
    v = sorted(v); k = (len(v) - 1) * p; f = int(k); c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)
def s(v):
    return "%.0f ms | %.0f ms | %.0f ms | %.0f ms" % (pct(v, .5), pct(v, .9), statistics.mean(v), max(v))
a, t = col("api.times"), col("direct.times")
print("API_ROW=" + repr(s(a)))
print("DIRECT_ROW=" + repr(s(t)))
print("RATIO=%.2f" % (pct(a, .5) / pct(t, .5)))
print("DIFF=%.0f" % (pct(a, .5) - pct(t, .5)))
print("D_CREATE=%.0f D_START=%.0f D_INSPECT=%.1f" % tuple(pct(col("direct.times", i), .5) for i in range(3)))
print("DEL_API=%.0f DEL_DIRECT=%.0f" % (pct(col("api-del.times"), .5), pct(col("direct-del.times"), .5)))
PY
)
eval "$stats"

to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000;
    else if (v ~ /s$/) n = n * 1000
    printf "%.2f", n }'
}
field() { awk -v k="$2" '$1 == k {print $2; exit}' "$tmp/$1.wrk"; }
rps() { awk '/^Requests\/sec:/ {printf "%.0f", $2; exit}' "$tmp/$1.wrk"; }
non2xx() { awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2; exit}' "$tmp/$1.wrk"; }
errs() { awk '/Socket errors/ {sub(/^ *Socket errors: */, ""); print; exit}' "$tmp/$1.wrk"; }
row() {
  local n e
  n=$(non2xx "$1"); e=$(errs "$1")
  printf '| %s | %s | %s ms | %s ms | %s | %s |\n' "$2" "$(rps "$1")" \
    "$(to_ms "$(field "$1" 50%)")" "$(to_ms "$(field "$1" 99%)")" "${n:-0}" "${e:-none}"
}
p99_16=$(to_ms "$(field c16 99%)")
ratio_ok=$(awk -v r="$RATIO" 'BEGIN {print (r <= 1.1) ? "met" : "not met"}')
p99_ok=$(awk -v p="$p99_16" 'BEGIN {print (p < 5) ? "met" : "not met"}')
cpu=$(awk -F: '/^model name/ {sub(/^ */, "", $2); print $2; exit}' /proc/cpuinfo 2>/dev/null)
[ -n "$cpu" ] || cpu=$(uname -m)
engine=$(dcurl "http://docker/version" | sed -n 's/.*"Version":"\([^"]*\)".*/\1/p' | head -n1)
kb=$(awk -v b="$list_bytes" 'BEGIN {printf "%.1f", b / 1024}')

section=$(cat <<MD
<!-- containers${BENCH_SUFFIX:-}:begin -->
## Containers: \`bench/containers.sh\` (${BENCH_BACKEND_NAME:-SQLite})

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(nproc) CPUs, $cpu; $(uname -sr); Docker Engine ${engine:-?} (API $api);
  load average at the start $load_start, $others other containers running
- Daemon: \`$version\`, LOG_LEVEL=warn, SQLite in a temp dir, catalog \`tests/api/catalog.test.yaml\`
  (\`nginx\` = \`$image\` running busybox httpd, 64 MB, 0.1 CPU)

### Create + start, $ncreate sequential creates of each kind (after 2 warm-ups each, alternating)

| path | median | p90 | mean | max |
|---|---|---|---|---|
| \`POST /api/containers/create\` through cloudyad (request to 201) | $API_ROW |
| Engine API directly with curl: create + start + inspect | $DIRECT_ROW |

Direct path, median per call: create $D_CREATE ms, start $D_START ms, inspect $D_INSPECT ms.
Ratio of medians cloudyad / direct: **$RATIO** (target <= 1.1: $ratio_ok); cloudyad minus direct at the median: $DIFF ms.
Same body for both (cloudyad's HostConfig read back from the Engine: memory, swap, NanoCpus,
PidsLimit, no-new-privileges, CapDrop ALL + 6 caps, HostPort "", the tenant network \`$network\`,
Init, RestartPolicy, json-file log limits). Removal, median: $DEL_API ms through
\`DELETE /api/containers/<name>\`, $DEL_DIRECT ms with \`DELETE /containers/<name>?force=1&v=1\`.

### \`GET /api/containers\` with $nlist running containers in the tenant

$nlist creates, $par at a time: $bulk_s s; deleted through the API, $par at a time: $bulkdel_s s
(left on the Engine afterwards: $left). The answer lists $list_n containers ($list_running running)
in $list_bytes bytes ($kb KiB, uncompressed).

| load (\`wrk -d$duration --latency\`) | req/s | p50 | p99 | non-2xx | socket errors |
|---|---|---|---|---|---|
$(row c16 "-t2 -c16")
$(row c1 "-t1 -c1")

p99 with 16 connections: **$p99_16 ms** (target < 5 ms: $p99_ok).
The seed's Node implementation needed 2.0 s for this list with a single running container (it
asked the Engine for stats per container); cloudyad answers from its own records.
<!-- containers${BENCH_SUFFIX:-}:end -->
MD
)

printf '%s\n' "$section" >"$tmp/section.md"
write_section "$results" "containers${BENCH_SUFFIX:-}" "$tmp/section.md"
