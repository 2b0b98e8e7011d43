#!/usr/bin/env bash
# The Go binding's Port against a Go map lookup of the same keys plus one cgo
# call's floor, measured in the same run (bench_test.go), in interleaved
# rounds; prints the best figures and the ratio (ratio.py). Not a test.
# Usage: benchmarks/go/run.sh [ROUNDS] [BENCHTIME]   (defaults: 5 rounds of 1s each)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -e build/lib/libportmanager.so ] || scripts/build.sh lib
. scripts/go-env.sh
unset PORTMANAGER_LOG   # allocations are not logged: the default threshold, as in production
rounds="${1:-5}"
benchtime="${2:-1s}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd benchmarks/go && go test -c -o "$out/bench.test" .)
for _ in $(seq "$rounds"); do
  (cd benchmarks/go && "$out/bench.test" -test.run '^$' -test.bench . -test.benchtime "$benchtime" -test.cpu 1) >> "$out/bench.txt"
done
python3 benchmarks/go/ratio.py "$out/bench.txt"
