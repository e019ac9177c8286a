#!/usr/bin/env bash
# The example configs' "Check it with:" lines work verbatim — run from the
# repository root with the sbridge of an install (`cmake --install` into a
# temporary prefix, then moved elsewhere: a relocated install must still
# find its own plugins) and with the sbridge of the build tree. Also: the
# installed sbridge's default plugin directory is the prefix's plugindir
# as pkg-config reports it.
set -euo pipefail
: "${SB_BUILD_DIR:?}" "${SB_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/sb-examples-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset SBRIDGE_PLUGIN_DIR SBRIDGE_CONFIG SBRIDGE_LOG_LEVEL

cmake --install "$SB_BUILD_DIR" --prefix "$work/staged" >/dev/null
mv "$work/staged" "$work/moved"   # relocated after install
prefix="$work/moved"
pc=$(find "$prefix" -name sbridge-plugin.pc | head -1)
[[ -n "$pc" ]] || fail "sbridge-plugin.pc not installed"
plugindir=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=plugindir sbridge-plugin)
default=$("$prefix/bin/sbridge" --help | sed -n 's/.*plugin directory override; default \(.*\))\.$/\1/p')
[[ -n "$default" ]] || fail "sbridge --help does not name its default plugin directory"
[[ "$(realpath "$default")" == "$(realpath "$plugindir")" ]] \
  || fail "default plugin directory $default is not the prefix's plugindir $plugindir"
echo "ok: the relocated install's default plugin directory is pkg-config's plugindir"

for file in server agent dev; do
  yaml="$SB_SOURCE_DIR/config/$file.yaml"
  # the first indented comment line after "Check it with"
  line=$(awk '/Check it with/ {seen = 1; next} seen && /^#   +[^ ]/ {sub(/^#[ \t]+/, ""); print; exit}' "$yaml")
  [[ -n "$line" && "$line" == *sbridge* ]] || fail "config/$file.yaml has no 'Check it with:' line"
  if [[ "$file" == agent && ";${SB_PLUGINS-vault};" != *";vault;"* ]]; then
    echo "skip: config/$file.yaml needs the vault plugin, which this build leaves out"
    continue
  fi
  for bindir in "$prefix/bin" "$SB_BUILD_DIR"; do
    out=$(cd "$SB_SOURCE_DIR" && PATH="$bindir:$PATH" bash -c "[[ \$(command -v sbridge) == '$bindir/sbridge' ]] || exit 99; $line" 2>&1) \
      || fail "config/$file.yaml: '$line' with $bindir/sbridge exited $?:
$out"
    grep -q "config/$file.yaml: ok" <<<"$out" || fail "config/$file.yaml: no ok line: $out"
    echo "ok: config/$file.yaml's line works with $bindir/sbridge"
  done
done
