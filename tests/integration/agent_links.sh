#!/usr/bin/env bash
# agent_links.sh — sbridge-agent links no database driver (SPEC §3, issue 10
# item 9): its dynamic dependencies (readelf -d NEEDED) hold no libpq, while
# sbridge's do (so the check itself is proven able to see libpq); and it
# holds only the libraries the agent role needs.
set -euo pipefail
: "${SBRIDGE:?path to sbridge}" "${SBRIDGE_AGENT:?path to sbridge-agent}"
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

if ! needed "$SBRIDGE" | grep -q '^libpq'; then
  echo "FAIL: sbridge does not list libpq; this check cannot tell whether it works"; exit 1
fi
agent=$(needed "$SBRIDGE_AGENT")
echo "sbridge-agent needs:"; echo "$agent" | sed 's/^/  /'
if echo "$agent" | grep -q '^libpq'; then
  echo "FAIL: sbridge-agent links libpq"; exit 1
fi
# libgcc_s: the compiler's runtime (clang's sanitizer builds link it);
# libgnutls: libmicrohttpd's TLS, since libmicrohttpd is linked statically
# (host/src/http/CMakeLists.txt)
allowed='^(libcurl|libsodium|libjansson|libyaml|libmicrohttpd|libgnutls|libc|libm|libdl|libpthread|libgcc_s|ld-linux)'
if unexpected=$(echo "$agent" | grep -Ev "$allowed"); then
  echo "FAIL: sbridge-agent links more than the agent role needs:"; echo "$unexpected"; exit 1
fi
# and it is the agent: --help answers with the agent's usage
"$SBRIDGE_AGENT" --help | grep -q 'sbridge-agent \[--config FILE\]'
echo "ok: sbridge-agent links no libpq"
