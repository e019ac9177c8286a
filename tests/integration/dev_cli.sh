#!/usr/bin/env bash
# `sbridge dev` as a first-time user runs it: a port already taken fails
# before anything is created (the port named, --listen / SBRIDGE_DEV_LISTEN
# offered, no state directory left); --listen picks the address; the seeded
# logins go to stdout, never to stderr's JSON log; `sbridge audit verify
# --state-dir` checks the dev state directory, while dev runs and after;
# gitops_observation on without its plugin loaded is refused at start.
set -euo pipefail
: "${SBRIDGE:?}" "${SB_PLUGIN_DIR:?}"
work=$(mktemp -d /tmp/sb-devcli-XXXXXX)
chmod 755 "$work"   # the embedded PostgreSQL runs as postgres when we are root
holder="" pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null
  [[ -n "$holder" ]] && kill "$holder" 2>/dev/null
  # a killed dev leaves its embedded PostgreSQL behind: stop it too
  local pm
  pm=$(head -1 "$work/state/pgdata/postmaster.pid" 2>/dev/null || true)
  [[ -n "$pm" ]] && kill -QUIT "$pm" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.out "$work"/*.err; do [[ -f "$f" ]] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }
mkdir "$work/tmp"
export TMPDIR="$work/tmp" SBRIDGE_PLUGIN_DIR="$SB_PLUGIN_DIR"
unset SBRIDGE_DEV_LISTEN SBRIDGE_CONFIG

# Hold a port, as another program would.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$work/port" &
holder=$!
for _ in $(seq 1 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
port=$(cat "$work/port")
[[ -n "$port" ]] || fail "could not hold a port"

check_refused() {  # $1: label; the rest: how dev is run
  local label=$1; shift
  set +e
  "$@" >"$work/taken.out" 2>"$work/taken.err"
  local rc=$?
  set -e
  [[ $rc == 1 ]] || fail "$label: exit $rc, expected 1"
  grep -q "port $port is already in use on 127.0.0.1" "$work/taken.err" || fail "$label: the port is not named"
  grep -q -- "--listen 127.0.0.1:PORT" "$work/taken.err" || fail "$label: no hint how to choose another port"
  grep -q "SBRIDGE_DEV_LISTEN" "$work/taken.err" || fail "$label: the environment variable is not offered"
  [[ -z "$(ls -A "$work/tmp")" ]] || fail "$label: a temporary state directory was left: $(ls "$work/tmp")"
  [[ ! -e "$work/never" ]] || fail "$label: the state directory was created"
  grep -q "embedded PostgreSQL\|initdb" "$work/taken.err" && fail "$label: the database was started first"
  echo "ok: $label"
}
check_refused "port taken (--listen)" "$SBRIDGE" dev --listen "127.0.0.1:$port"
check_refused "port taken (--listen, --state-dir)" "$SBRIDGE" dev --listen "127.0.0.1:$port" --state-dir "$work/never"
check_refused "port taken (SBRIDGE_DEV_LISTEN)" env SBRIDGE_DEV_LISTEN="127.0.0.1:$port" "$SBRIDGE" dev

# A start that fails after the state directory was made leaves none behind.
# (As root the embedded PostgreSQL runs as postgres, which cannot enter a
# 0700 directory: a failure after creation, on purpose.)
if [[ $(id -u) == 0 ]]; then
  mkdir -m 700 "$work/private"
  set +e
  "$SBRIDGE" dev --listen 127.0.0.1:0 --state-dir "$work/private/state" >"$work/private.out" 2>"$work/private.err"
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "a failed start exited $rc"
  [[ ! -e "$work/private/state" ]] || fail "a failed start left the state directory it created"
  [[ -z "$(ls -A "$work/tmp")" ]] || fail "a failed start left a temporary directory"
  echo "ok: a failed start removes the state directory it created"
fi

# GitOps observation on without its plugin loaded: refused before anything
# is created, naming the key and the plugin (as sbridge server does).
cat >"$work/gitops.yaml" <<'YAML'
role: dev
plugins:
  load:
    - {name: example, file: example.so, capabilities: [provider]}
gitops_observation:
  enabled: true
YAML
set +e
"$SBRIDGE" dev --config "$work/gitops.yaml" --listen 127.0.0.1:0 --state-dir "$work/never" >"$work/gitops.out" 2>"$work/gitops.err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "gitops_observation without its plugin: exit $rc, expected 1"
grep -q "gitops_observation.enabled: .*argocd" "$work/gitops.err" || fail "gitops_observation without its plugin: the key and plugin are not named"
[[ ! -e "$work/never" ]] || fail "gitops_observation without its plugin: the state directory was created"
echo "ok: gitops_observation without its plugin is refused before anything starts"

# A free port, a kept state directory.
"$SBRIDGE" dev --listen 127.0.0.1:0 --state-dir "$work/state" >"$work/dev.out" 2>"$work/dev.err" &
pid=$!
url=""
for _ in $(seq 1 1200); do  # up to 120 s: initdb on a loaded machine
  url=$(grep -so 'Control plane: http://127.0.0.1:[0-9]*' "$work/dev.out" | awk '{print $NF}' || true)
  [[ -n "$url" ]] && break
  kill -0 "$pid" 2>/dev/null || fail "sbridge dev exited during start"
  sleep 0.1
done
[[ -n "$url" ]] || fail "sbridge dev did not start"
[[ "$url" != "http://127.0.0.1:8080" && "$url" != "http://127.0.0.1:0" ]] || fail "--listen was ignored: $url"
curl -sf "$url/healthz" >/dev/null || fail "$url/healthz does not answer"
echo "ok: --listen 127.0.0.1:0 serves on $url"

grep -q "seeded users (passwords shown once" "$work/dev.out" || fail "the seeded logins are not on stdout"
pw=$(awk '$1 == "admin" && /role admin/ {print $2}' "$work/dev.out")
[[ ${#pw} -ge 20 ]] || fail "no admin password on stdout"
grep -q "seeded users (passwords" "$work/dev.err" && fail "the seed banner went to stderr"
grep -qF "$pw" "$work/dev.err" && fail "a seed password reached stderr (the log stream)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$pw\"}" "$url/api/v1/auth/login")
[[ "$code" == 200 ]] || fail "the printed admin password does not log in ($code)"
grep -q "sbridge audit verify --state-dir $work/state" "$work/dev.out" || fail "dev does not say how to verify its audit chain"
echo "ok: seeded logins on stdout only, and they work"

"$SBRIDGE" audit verify --state-dir "$work/state" --stale-after off >"$work/verify1.out" 2>"$work/verify1.err" \
  || fail "audit verify --state-dir against the running dev failed"
grep -q "audit chain ok" "$work/verify1.out" || fail "audit verify: $(cat "$work/verify1.out")"
echo "ok: audit verify --state-dir while dev runs"
# the worker's seal_audit task seals the login's events within seconds
for _ in $(seq 1 60); do
  "$SBRIDGE" audit verify --state-dir "$work/state" --stale-after off >"$work/verify1.out" 2>/dev/null || true
  grep -q "newest sealed at never" "$work/verify1.out" || break
  sleep 0.5
done
grep -q "audit chain ok" "$work/verify1.out" || fail "audit verify: $(cat "$work/verify1.out")"
grep -q "newest sealed at never" "$work/verify1.out" && fail "dev's worker sealed nothing in 30 s: $(cat "$work/verify1.out")"
echo "ok: dev seals its audit chain (seal_audit)"

kill -INT "$pid"
wait "$pid" || fail "sbridge dev did not stop cleanly on Ctrl-C"
pid=""
[[ -f "$work/state/master.key" ]] || fail "--state-dir was not kept"
"$SBRIDGE" audit verify --state-dir "$work/state" --stale-after off >"$work/verify2.out" 2>"$work/verify2.err" \
  || fail "audit verify --state-dir after dev stopped failed"
grep -q "audit chain ok" "$work/verify2.out" || fail "audit verify: $(cat "$work/verify2.out")"
echo "ok: audit verify --state-dir after dev stopped"
