#!/usr/bin/env bash
# Fuzzes the registry loader (libyaml reader + validation + allocation + the
# analysis), the Docker client's JSON reader (JSONReader, on the same bytes) and
# the C entry points (names, instances, buffer capacities, environment names;
# see Tests/fuzz/FuzzRegistry.swift for the input format) with libFuzzer and
# AddressSanitizer. Inputs go up to 1 MiB.
#
#   scripts/fuzz.sh [SECONDS]   a long run (default 60 s); the corpus grows in
#                               build/fuzz/corpus, crashes land in build/fuzz/
#   scripts/fuzz.sh --smoke     the short run of `make test` (make test-fuzz):
#                               fixed seed, the seed corpus only, 45 s; fails if
#                               the fuzzer finds a crash, a leak-free timeout or
#                               an out-of-memory
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
smoke=0 seconds=60
case "${1:-}" in
  --smoke) smoke=1 seconds=45 ;;
  '') ;;
  *) seconds="$1" ;;
esac
out=build/fuzz
mkdir -p "$out/corpus" "$out/modules"
flags=(-O -parse-as-library -sanitize=fuzzer,address -use-ld=lld -package-name portmanager)
# The C modules' folders (module maps and headers), for every swiftc below.
cmodules=(-I Sources/CYaml -I Sources/CSQLite -I Sources/CPortManagerHeader -I Sources/CDockerHTTP/include)
# Every Swift file of a target, its folders included, in a stable order.
sources() { find "Sources/$1" -name '*.swift' | LC_ALL=C sort; }

# Rebuild only when a source changed.
binary="$out/fuzz-registry"
# shellcheck disable=SC2046  # sources: word splitting intended (no spaces in paths)
if [ ! -x "$binary" ] || [ -n "$(find Sources/PortManagerCore Sources/PortManagerAnalysis Sources/PortManager Sources/PortManagerC Sources/CDockerHTTP Tests/fuzz scripts/fuzz.sh -newer "$binary" -print -quit)" ]; then
  echo "fuzz: building $binary"
  swiftc "${flags[@]}" -emit-library -static -module-name PortManagerCore -I Sources/CPortManagerHeader \
    -emit-module-path "$out/modules/PortManagerCore.swiftmodule" \
    $(sources PortManagerCore) -o "$out/modules/libPortManagerCore.a"
  swiftc "${flags[@]}" -emit-library -static -module-name PortManagerAnalysis -I "$out/modules" -I Sources/CPortManagerHeader \
    -emit-module-path "$out/modules/PortManagerAnalysis.swiftmodule" \
    $(sources PortManagerAnalysis) -o "$out/modules/libPortManagerAnalysis.a"
  # The Docker client's C target (libcurl through dlopen), with the same sanitizers.
  clang -c -O1 -fPIC -fsanitize=fuzzer-no-link,address -I Sources/CDockerHTTP/include \
    Sources/CDockerHTTP/docker_http.c -o "$out/modules/docker_http.o"
  rm -f "$out/modules/libCDockerHTTP.a"
  ar rcs "$out/modules/libCDockerHTTP.a" "$out/modules/docker_http.o"
  swiftc "${flags[@]}" -emit-library -static -module-name PortManager -I "$out/modules" "${cmodules[@]}" \
    -emit-module-path "$out/modules/PortManager.swiftmodule" \
    $(sources PortManager) -o "$out/modules/libPortManager.a"
  swiftc "${flags[@]}" -emit-library -static -module-name PortManagerC -I "$out/modules" "${cmodules[@]}" \
    -emit-module-path "$out/modules/PortManagerC.swiftmodule" \
    $(sources PortManagerC) -o "$out/modules/libPortManagerC.a"
  # shellcheck disable=SC2046
  swiftc "${flags[@]}" -I "$out/modules" "${cmodules[@]}" Tests/fuzz/FuzzRegistry.swift \
    -L "$out/modules" -lPortManagerC -lPortManager -lCDockerHTTP -lPortManagerAnalysis -lPortManagerCore $(pkg-config --libs yaml-0.1 sqlite3) -o "$binary"
fi
options=(-max_len=1048576 -timeout=30 -rss_limit_mb=2048 -max_total_time="$seconds")
if [ $smoke = 0 ]; then
  cp dynamicconfig/*.yaml Tests/fixtures/*.yaml "$out/corpus/" 2>/dev/null || true
  exec "$binary" "${options[@]}" -artifact_prefix="$out/" "$out/corpus"
fi

# The smoke run: a private copy of the seeds (the long runs' corpus is not
# read, so every run starts alike), a fixed seed, findings into a private folder.
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
mkdir "$t/corpus" "$t/artifacts"
cp dynamicconfig/*.yaml Tests/fixtures/*.yaml "$t/corpus/"
start=$SECONDS
if "$binary" "${options[@]}" -seed=1 -print_final_stats=1 -artifact_prefix="$t/artifacts/" "$t/corpus" > "$t/log" 2>&1; then
  echo "ok   fuzz smoke: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$t/log" | grep -Eo '[0-9]+$') inputs in $((SECONDS - start)) s, no crash"
  exit 0
fi
tail -n 60 "$t/log"
mkdir -p "$out/smoke-findings"
cp "$t/artifacts/"* "$out/smoke-findings/" 2>/dev/null || true
echo "FAIL: the fuzzer found a problem; the input is in $out/smoke-findings/ (replay: $binary FILE)"
exit 1
