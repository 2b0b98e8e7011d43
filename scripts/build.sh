#!/usr/bin/env bash
# Builds the self-contained release products into build/:
#   build/lib/libportmanager.so.1      the C library (static Swift stdlib, soname
#   build/lib/libportmanager.so        libportmanager.so.1, only pm_* exported)
#   build/bin/portmanager              the command-line tool
# Usage: scripts/build.sh [lib|cli|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
what="${1:-all}"
out="$PWD/build"
mkdir -p "$out/lib" "$out/bin"

if [ "$what" = lib ] || [ "$what" = all ]; then
  # A separate scratch path: these flags must not leak into the CLI or tests.
  swift build -c release --scratch-path .build/lib --product portmanager \
    -Xswiftc -static-stdlib \
    -Xlinker --version-script="$PWD/scripts/libportmanager.map" \
    -Xlinker -soname=libportmanager.so.1 \
    -Xlinker -z -Xlinker nodelete \
    -Xswiftc -use-ld=lld
  install -m 0755 .build/lib/release/libportmanager.so "$out/lib/libportmanager.so.1"
  strip --strip-unneeded "$out/lib/libportmanager.so.1"
  ln -sf libportmanager.so.1 "$out/lib/libportmanager.so"
fi

if [ "$what" = cli ] || [ "$what" = all ]; then
  swift build -c release --product portmanager-cli -Xswiftc -static-stdlib
  install -m 0755 .build/release/portmanager-cli "$out/bin/portmanager"
fi
