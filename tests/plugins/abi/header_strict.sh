#!/usr/bin/env bash
# header_strict.sh INCLUDE_DIR SRC_DIR — <sbridge/plugin.h> compiles as
# C++ (g++, C++11 and C++17) and as strict C99 and C11, warning-free with
# -Wall -Wextra -Wpedantic -Werror, and a plugin using SB_PLUGIN_DEFINE
# builds as strict C99. Fails on the first compiler complaint.
set -euo pipefail
inc=$1 src=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
strict=(-Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes)
for std in c99 c11; do
  echo "cc -std=$std: header_strict.c"
  cc -std=$std "${strict[@]}" -I"$inc" -c "$src/header_strict.c" -o "$out/c_$std.o"
done
for std in c++11 c++17; do
  echo "g++ -std=$std: header_strict.cpp"
  g++ -std=$std -Wall -Wextra -Wpedantic -Werror -I"$inc" -c "$src/header_strict.cpp" -o "$out/cxx_$std.o"
done
echo "header compiles as C99, C11, C++11 and C++17"
