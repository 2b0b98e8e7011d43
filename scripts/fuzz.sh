#!/usr/bin/env bash
# Fuzzes the registry loader (libyaml reader + validation + allocation + the
# analysis) with libFuzzer and AddressSanitizer: scripts/fuzz.sh [SECONDS]
# (default 60). Seeds come from dynamicconfig/ and Tests/fixtures/; crashes and
# the growing corpus land in build/fuzz/. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH" SWIFT_BACKTRACE=enable=no
seconds="${1:-60}"
out=build/fuzz
mkdir -p "$out/corpus" "$out/modules"
cp dynamicconfig/*.yaml Tests/fixtures/*.yaml "$out/corpus/" 2>/dev/null || true
flags=(-O -parse-as-library -sanitize=fuzzer,address -use-ld=lld -package-name portmanager)
swiftc "${flags[@]}" -emit-library -static -module-name PortManagerCore \
  -emit-module-path "$out/modules/PortManagerCore.swiftmodule" \
  Sources/PortManagerCore/*.swift -o "$out/modules/libPortManagerCore.a"
swiftc "${flags[@]}" -emit-library -static -module-name PortManager -I "$out/modules" -I Sources/CYaml \
  -emit-module-path "$out/modules/PortManager.swiftmodule" \
  Sources/PortManager/*.swift -o "$out/modules/libPortManager.a"
swiftc "${flags[@]}" -I "$out/modules" -I Sources/CYaml Tests/fuzz/FuzzRegistry.swift \
  -L "$out/modules" -lPortManager -lPortManagerCore $(pkg-config --libs yaml-0.1) -o "$out/fuzz-registry"
"$out/fuzz-registry" -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
  -artifact_prefix="$out/" "$out/corpus"
