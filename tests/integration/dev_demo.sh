#!/usr/bin/env bash
# `sbridge dev` as a newcomer runs it, non-interactively (issue 18): the
# first run seeds the demo (Vault emulator with demo secrets, tenancy, one
# enrolled agent, the catalog discovered and bound) and prints the logins;
# a read request goes through the API (approved, revealed once, a second
# reveal refused) and through the CLI (bindings, request, approve, reveal),
# and the revealed values are the emulator's; a direct reveal works on
# staging; the values never reach dev's log or the agent's log. Ctrl-C
# stops everything (no emulator or agent left). A second run on the same
# state reuses it: no new logins, no second setup, and a read still works.
# --reset refuses while a dev runs on the directory, then starts fresh.
set -euo pipefail
: "${SBRIDGE:?}" "${SB_PLUGIN_DIR:?}"
work=$(mktemp -d /tmp/sb-devdemo-XXXXXX)
chmod 755 "$work"   # the embedded PostgreSQL runs as postgres when we are root
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null
  local pm
  pm=$(head -1 "$work/state/pgdata/postmaster.pid" 2>/dev/null || true)
  [[ -n "$pm" ]] && kill -QUIT "$pm" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {  # on stderr: also seen when called inside $(...)
  {
    echo "FAIL: $*"
    for f in "$work"/*.out "$work"/*.err "$work"/state/demo/*.log; do
      [[ -f "$f" ]] && { echo "--- $f"; tail -n 30 "$f"; }
    done
  } >&2
  exit 1
}
export SBRIDGE_PLUGIN_DIR="$SB_PLUGIN_DIR"
unset SBRIDGE_DEV_LISTEN SBRIDGE_CONFIG SBRIDGE_URL SBRIDGE_TOKEN

start_dev() {  # $1: run label; extra args follow
  local run=$1; shift
  "$SBRIDGE" dev --listen 127.0.0.1:0 --state-dir "$work/state" "$@" \
    >"$work/dev$run.out" 2>"$work/dev$run.err" &
  pid=$!
  for _ in $(seq 1 1200); do
    grep -q "Press Ctrl-C" "$work/dev$run.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "run $run: sbridge dev exited during start"
    sleep 0.1
  done
  grep -q "Press Ctrl-C" "$work/dev$run.out" || fail "run $run: sbridge dev never became ready"
  url=$(sed -n 's/^Secrets Bridge is running: //p' "$work/dev$run.out")
  [[ -n "$url" ]] || fail "run $run: no URL printed"
}
stop_dev() {
  kill -INT "$pid"
  wait "$pid" || fail "sbridge dev did not stop cleanly on Ctrl-C"
  pid=""
}
password_of() { sed -n "s/^  $1 \+\([A-Za-z0-9_-]\{32\}\) .*/\1/p" "$work/dev1.out"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
api() {  # cookie-jar method path [body]
  curl -sS -b "$work/$1.jar" -c "$work/$1.jar" -X "$2" -H 'Content-Type: application/json' \
    ${4:+-d "$4"} "$url$3"
}
login() {  # user
  curl -sS -c "$work/$1.jar" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$(password_of "$1")\"}" "$url/api/v1/auth/login" >/dev/null
}
seeded() {  # ref key: the value the emulator was seeded with
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['kv']['secret'][sys.argv[2]]['data'][sys.argv[3]])" \
    "$work/state/demo/vault-seed.json" "$1" "$2"
}
binding_of() {  # ref env: the binding id of that secret in that environment (as admin)
  local project env_id
  project=$(api admin GET "/api/v1/projects?limit=100" | json "[p['id'] for p in d['items'] if p['name']=='$(cut -d/ -f2 <<<"$1")'][0]")
  env_id=$(api admin GET "/api/v1/projects/$project/environments" | json "[e['id'] for e in d['items'] if e['name']=='$2'][0]")
  api admin GET "/api/v1/projects/$project/secret-bindings?limit=100" \
    | json "[b['id'] for b in d['items'] if b['secret_ref']=='$1' and b['environment_id']=='$env_id'][0]"
}
submit() {  # kind binding keys-json: the new request's id
  local body
  body=$(api developer POST /api/v1/requests \
    "{\"kind\":\"$1\",\"binding_id\":\"$2\",\"keys\":$3,\"justification\":\"dev smoke\"}")
  json "d['id']" <<<"$body" 2>/dev/null || fail "submitting a $1 request: $body"
}
wait_state() {  # request state
  for _ in $(seq 1 300); do
    [[ $(api developer GET "/api/v1/requests/$1" | json "d['state']") == "$2" ]] && return 0
    sleep 0.1
  done
  fail "request $1 never reached $2 (it is $(api developer GET "/api/v1/requests/$1" | json "d['state']"))"
}

# ---- first run -------------------------------------------------------------------------
start_dev 1
for user in admin approver developer; do
  [[ -n "$(password_of $user)" ]] || fail "no seeded password for $user on stdout"
  grep -q "$(password_of $user)" "$work/dev1.err" && fail "the $user password reached the log"
done
grep -q "Starting the demo Vault emulator" "$work/dev1.out" || fail "no progress shown"
grep -q "connection demo-vault" "$work/dev1.out" || fail "the demo is not described"
echo "ok: first run seeded the demo and printed the logins on stdout only"

for user in admin approver developer; do login $user; done
n=$(api admin GET "/api/v1/secrets?limit=100" | json "len(d['items'])")
[[ $n == 8 ]] || fail "the catalog holds $n secrets, expected the 8 demo secrets"
labels=$(api admin GET "/api/v1/secrets?ref_prefix=payments/ledger/prod/&limit=10" | json "d['items'][0]['labels']")
grep -q "'owner': 'payments-oncall'" <<<"$labels" || fail "custom metadata not in the catalog labels: $labels"
echo "ok: the catalog holds the 8 demo secrets with their custom metadata as labels"

# A read through the API: submitted, approved by another user, revealed once.
ref=payments/checkout-api/prod/database
bind=$(binding_of $ref prod)
req=$(submit read "$bind" '["password"]')
api approver POST "/api/v1/requests/$req/approve" '{}' >/dev/null
wait_state "$req" executed
wrap=$(api developer GET "/api/v1/requests/$req/wraps" | json "d['items'][0]['id']")
value=$(api developer POST "/api/v1/requests/$req/wraps/$wrap/reveal" '{}' | json "d['value']")
[[ "$value" == "$(seeded $ref password)" ]] || fail "the API reveal did not return the seeded value"
code=$(curl -sS -o /dev/null -w '%{http_code}' -b "$work/developer.jar" -X POST \
  -H 'Content-Type: application/json' -d '{}' "$url/api/v1/requests/$req/wraps/$wrap/reveal")
[[ $code == 410 ]] || fail "a second reveal answered $code, expected 410"
echo "ok: API read approved, revealed once (the emulator's value), second reveal 410"

# Direct reveal on staging (the demo policy allows it there).
sref=payments/ledger/staging/database
req=$(submit direct_reveal "$(binding_of $sref staging)" '["password"]')
wait_state "$req" executed
wrap=$(api developer GET "/api/v1/requests/$req/wraps" | json "d['items'][0]['id']")
value=$(api developer POST "/api/v1/requests/$req/wraps/$wrap/reveal" '{}' | json "d['value']")
[[ "$value" == "$(seeded $sref password)" ]] || fail "the direct reveal did not return the seeded value"
echo "ok: direct reveal on staging without an approval"

# The same story through the CLI.
export SBRIDGE_CONFIG_DIR="$work/cli-developer"
password_of developer | "$SBRIDGE" login --url "$url" --username developer --password-stdin >/dev/null \
  || fail "sbridge login failed"
"$SBRIDGE" bindings >"$work/bindings.txt" || fail "sbridge bindings failed"
cref=platform/billing-worker/prod/queue
cbind=$(awk -v r=$cref '$4 == r && $3 == "prod" {print $1}' "$work/bindings.txt")
[[ -n "$cbind" ]] || fail "sbridge bindings does not list $cref in prod: $(cat "$work/bindings.txt")"
req=$("$SBRIDGE" request read --binding "$cbind" --justification "dev smoke (cli)" | cut -d' ' -f1)
SBRIDGE_CONFIG_DIR="$work/cli-approver" bash -c \
  'echo "$0" | "$1" login --url "$2" --username approver --password-stdin >/dev/null && "$1" approve "$3" >/dev/null' \
  "$(password_of approver)" "$SBRIDGE" "$url" "$req" || fail "sbridge approve failed"
wait_state "$req" executed
"$SBRIDGE" reveal "$req" --out "$work/revealed" || fail "sbridge reveal failed"
grep -qxF "password=$(seeded $cref password)" "$work/revealed" || fail "the CLI reveal is not the seeded password"
grep -qxF "url=$(seeded $cref url)" "$work/revealed" || fail "the CLI reveal is not the seeded url"
echo "ok: CLI login, bindings, request, approve, reveal"

set +e
"$SBRIDGE" discover demo-vault --wait 60 >"$work/discover.txt" 2>"$work/discover.err"
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "HTTP 403" "$work/discover.err" || fail "a developer's discover: exit $rc, $(cat "$work/discover.err")"
export SBRIDGE_CONFIG_DIR="$work/cli-admin"
password_of admin | "$SBRIDGE" login --url "$url" --username admin --password-stdin >/dev/null \
  || fail "sbridge login (admin) failed"
"$SBRIDGE" discover demo-vault --wait 60 >"$work/discover.txt" || fail "sbridge discover failed: $(cat "$work/discover.txt")"
grep -q "discovery succeeded: 8 secrets seen" "$work/discover.txt" || fail "discover said: $(cat "$work/discover.txt")"
echo "ok: sbridge discover --wait"

for r in $ref $sref $cref; do
  v=$(seeded $r password)
  grep -qF "$v" "$work/dev1.err" "$work/state/demo/agent.log" && fail "a value of $r reached a log"
done
echo "ok: no revealed value in dev's log or the agent's log"

set +e
"$SBRIDGE" dev --listen 127.0.0.1:0 --state-dir "$work/state" --reset >"$work/reset.out" 2>"$work/reset.err"
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "a dev is running on" "$work/reset.err" || fail "--reset while running: exit $rc"
echo "ok: --reset refuses while a dev runs on the state"

agent_pid=$(pgrep -f "agent --config $work/state/demo/agent.yaml" || true)
[[ -n "$agent_pid" ]] || fail "no demo agent process"
stop_dev
sleep 0.5
kill -0 "$agent_pid" 2>/dev/null && fail "the demo agent outlived dev"
pgrep -f "$work/state/demo/vault-seed.json" >/dev/null && fail "the Vault emulator outlived dev"
echo "ok: Ctrl-C stops dev, its agent and its emulator"

# ---- second run: the same state ------------------------------------------------------
start_dev 2
grep -q "seeded users" "$work/dev2.out" && fail "the second run seeded users again"
grep -q "Setting up the demo tenancy" "$work/dev2.out" && fail "the second run set up the tenancy again"
grep -q "as printed at the first run" "$work/dev2.out" || fail "the second run does not say where the logins are"
rm -f "$work"/*.jar
for user in admin approver developer; do login $user; done
req=$(submit read "$(binding_of $ref prod)" '["username"]')
api approver POST "/api/v1/requests/$req/approve" '{}' >/dev/null
wait_state "$req" executed
echo "ok: a second run reuses the state (same logins, catalog, agent) and a read works"
stop_dev

start_dev 3 --reset
grep -q "Removed the dev state" "$work/dev3.out" || fail "--reset did not say what it removed"
grep -q "seeded users" "$work/dev3.out" || fail "--reset did not start fresh"
stop_dev
echo "ok: --reset starts fresh"
