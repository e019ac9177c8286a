#!/usr/bin/env bash
# `sbridge server` as an operator runs it: embedded PostgreSQL in state_dir,
# bootstrap admin from the environment, /readyz, login, graceful SIGTERM,
# restart with the data kept, kill -9 and restart, then `sbridge migrate`
# and `sbridge audit verify` on the stopped server's state. Behind a trusted
# proxy (http.trusted_proxies) the audited address is the forwarded client's.
set -euo pipefail
: "${SBRIDGE:?}"
command -v curl >/dev/null || { echo "FAIL: this test needs curl; scripts/install-deps installs it"; exit 1; }
work=$(mktemp -d /tmp/sb-server-XXXXXX)
chmod 755 "$work"
pid=""
cleanup() { [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log:"; tail -n 30 "$work/server.log" 2>/dev/null; exit 1; }

cat > "$work/server.yaml" <<YAML
role: server
http:
  listen: 127.0.0.1:0
  trusted_proxies: [127.0.0.1]
state_dir: $work/state
bootstrap_admin:
  username: ops-admin
  password: \${env:SB_TEST_ADMIN_PASSWORD}
shutdown_grace: 5s
YAML
export SB_TEST_ADMIN_PASSWORD="lifecycle-admin-password-1"

start() {
  "$SBRIDGE" server --config "$work/server.yaml" >"$work/server.log" 2>&1 &
  pid=$!
  url=""
  for _ in $(seq 1 600); do  # up to 60 s: initdb on a loaded machine
    url=$(grep -so 'control plane listening on http://[0-9.:]*' "$work/server.log" | awk '{print $NF}' || true)
    [[ -n "$url" ]] && curl -sf "$url/readyz" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "the server exited during start"
    sleep 0.1
  done
  fail "the server did not become ready"
}

login() {
  curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"username\":\"ops-admin\",\"password\":\"$SB_TEST_ADMIN_PASSWORD\"}" "$url/api/v1/auth/login"
}

start
[[ "$(login)" == 200 ]] || fail "the bootstrap admin cannot log in"
grep -q "no KMS is configured" "$work/server.log" || fail "a server without kms: does not warn"
grep -q "$SB_TEST_ADMIN_PASSWORD" "$work/server.log" && fail "the admin password reached the log"
# through the trusted proxy (this loopback client), as client 203.0.113.9
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$work/jar" -H 'Content-Type: application/json' \
  -H 'X-Forwarded-For: 198.51.100.1, 203.0.113.9' \
  -d "{\"username\":\"ops-admin\",\"password\":\"$SB_TEST_ADMIN_PASSWORD\"}" "$url/api/v1/auth/login")
[[ "$code" == 200 ]] || fail "login through the proxy: $code"
curl -s -b "$work/jar" "$url/api/v1/audit-events?action=auth.login" >"$work/events.json"
grep -q '"remote_ip":"203.0.113.9"' "$work/events.json" \
  || fail "the audited address is not the forwarded client's: $(head -c 600 "$work/events.json")"
grep -q '198.51.100.1' "$work/events.json" && fail "a hop beyond the client was believed"
# GitOps observation is off by default: its routes do not exist
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$work/jar" "$url/api/v1/argocd-endpoints")
[[ "$code" == 404 ]] || fail "GitOps routes answer $code while gitops_observation is off"
echo "ok: trusted proxy"
[[ "$(stat -c %a "$work/state/master.key")" == 600 ]] || fail "master.key is not 0600"

kill -TERM "$pid"
wait "$pid" || fail "SIGTERM did not stop the server cleanly (exit $?)"
pid=""
echo "ok: graceful stop"

start
[[ "$(login)" == 200 ]] || fail "login after restart"
echo "ok: restart keeps users"

kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
start
[[ "$(login)" == 200 ]] || fail "login after kill -9 and restart"
echo "ok: restart after kill -9"
kill -TERM "$pid"; wait "$pid"; pid=""

"$SBRIDGE" migrate --config "$work/server.yaml" >"$work/migrate.log" 2>&1 || fail "migrate: $(tail -3 "$work/migrate.log")"
grep -q "up to date" "$work/migrate.log" || fail "migrate did not report the schema"
"$SBRIDGE" audit verify --config "$work/server.yaml" --stale-after off >"$work/verify.log" 2>&1 \
  || fail "audit verify: $(tail -3 "$work/verify.log")"
grep -q "audit chain ok" "$work/verify.log" || fail "audit verify output: $(cat "$work/verify.log")"
echo "ok: migrate and audit verify on the stopped server's state"

# With kms: naming a KMS plugin instance, the server loads and starts the
# plugin before it listens and wraps read keys with it; a kms: naming a
# plugin that is not there stops it before anything listens.
cat >> "$work/server.yaml" <<YAML
plugins:
  load:
    - name: example
      file: example.so
      capabilities: [kms]
kms:
  name: primary
  plugin: example
YAML
start
grep -q "read keys are wrapped by KMS instance primary (plugin example)" "$work/server.log" \
  || fail "the KMS plugin instance is not used"
grep -q "no KMS is configured" "$work/server.log" && fail "warned about a missing KMS while one is configured"
kill -TERM "$pid"; wait "$pid"; pid=""
sed -i 's/file: example.so/file: missing.so/' "$work/server.yaml"
if "$SBRIDGE" server --config "$work/server.yaml" >"$work/server.log" 2>&1; then
  fail "the server started without its KMS plugin"
fi
grep -q "missing.so" "$work/server.log" || fail "the refusal does not name the plugin file: $(tail -3 "$work/server.log")"
grep -q "control plane listening" "$work/server.log" && fail "the server listened before its plugins loaded"
echo "ok: the KMS plugin instance wraps read keys; a missing plugin stops the start"

# gitops_observation.enabled needs its plugin loaded: without it nothing starts
sed -i 's/file: missing.so/file: example.so/' "$work/server.yaml"
printf 'gitops_observation:\n  enabled: true\n' >> "$work/server.yaml"
if "$SBRIDGE" server --config "$work/server.yaml" >"$work/server.log" 2>&1; then
  fail "the server started GitOps observation without its plugin"
fi
grep -q "gitops_observation.enabled: plugin argocd is not loaded" "$work/server.log" \
  || fail "the refusal does not say what is missing: $(tail -3 "$work/server.log")"
grep -q "control plane listening" "$work/server.log" && fail "the server listened without its GitOps plugin"
echo "ok: GitOps observation is off by default; on, it needs its plugin"
