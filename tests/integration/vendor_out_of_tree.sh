#!/usr/bin/env bash
# Proves a vendor can build a plugin out of tree with only the installed
# header and `pkg-config sbridge-plugin`, and that the host loads it and
# the conformance kit passes it.
set -euo pipefail
: "${SB_BUILD_DIR:?}" "${SB_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/sb-vendor-XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$SB_BUILD_DIR" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/pkgconfig"

abi=$(pkg-config --variable=abi_version sbridge-plugin)
[ "$abi" = "1.1" ] || { echo "FAIL: abi_version is '$abi', expected 1.1"; exit 1; }
plugindir=$(pkg-config --variable=plugindir sbridge-plugin)
case "$plugindir" in "$prefix"/*/sbridge/plugins) ;; *) echo "FAIL: plugindir $plugindir"; exit 1 ;; esac
[ -f "$prefix/include/sbridge/plugin.h" ] || { echo "FAIL: header not installed"; exit 1; }
[ -x "$prefix/bin/sbridge" ] || { echo "FAIL: sbridge not installed"; exit 1; }
[ -f "$plugindir/example.so" ] || { echo "FAIL: plugins not installed into plugindir"; exit 1; }

# A copy of the example's source, away from the repository: nothing but the
# installed header can be found.
mkdir "$work/vendor"
cp "$SB_SOURCE_DIR/plugin-api/examples/example/example_plugin.c" \
   "$SB_SOURCE_DIR/plugin-api/examples/example/Makefile" "$work/vendor/"
make -s -C "$work/vendor" CFLAGS="-O2 -Wall -Wextra -Werror -std=c99 -pedantic"

exported=$(nm -D --defined-only "$work/vendor/example.so" | awk '{print $3}')
[ "$exported" = "sbridge_plugin_v1" ] || { echo "FAIL: exports: $exported"; exit 1; }

mkdir -m 0755 "$work/plugins"
install -m 0755 "$work/vendor/example.so" "$work/plugins/example.so"
"$prefix/bin/sbridge" plugin check "$work/plugins/example.so"

# The authoring guide's complete minimal plugin, verbatim, built with its
# own command (strict C99) and passed by the conformance kit.
sed -n '/<!-- minimal-plugin: begin -->/,/<!-- minimal-plugin: end -->/p' \
    "$SB_SOURCE_DIR/docs/plugins/authoring.md" | sed '1,2d;$d' | sed '$d' > "$work/vendor/hello.c"
grep -q 'SB_PLUGIN_DEFINE' "$work/vendor/hello.c" || { echo "FAIL: no minimal plugin in authoring.md"; exit 1; }
cc $(pkg-config --cflags sbridge-plugin) -std=c99 -pedantic -Wall -Wextra -Werror -fPIC -shared \
   -o "$work/vendor/hello.so" "$work/vendor/hello.c"
install -m 0755 "$work/vendor/hello.so" "$work/plugins/hello.so"
"$prefix/bin/sbridge" plugin check "$work/plugins/hello.so"
sha=$(sha256sum "$work/plugins/example.so" | cut -d' ' -f1)
cat > "$work/agent.yaml" <<YAML
role: agent
control_plane:
  url: https://cp.example.com
  identity_file: /var/lib/sbridge/id.json
plugins:
  directory: $work/plugins
  load:
    - name: example
      file: example.so
      sha256: $sha
      capabilities: [provider]
providers:
  - name: vendor-store
    plugin: example
YAML
"$prefix/bin/sbridge" config check "$work/agent.yaml"
echo "vendor out-of-tree build: ok"
