#!/usr/bin/env bash
# Benchmark of the whole-lattice analysis: builds in release and prints the
# table (1k, 10k, 100k services x 10 instances x 3 ports), with the ratio to a
# plain sort of as many integers measured in the same run; then the chained
# family (10, 50, 100, 1,000 services of overlapping ranges, 6,000 instances
# each), one process per size, with time and peak RSS. Not a test.
set -euo pipefail
cd "$(dirname "$0")"
. ../../scripts/swift-env.sh
scratch="../../.build-bench-analysis"
swift build -c release --scratch-path "$scratch" >&2
"$scratch/release/AnalysisBench"
echo
echo "chained ranges: N services, one range 10 wide at 1024+i, increment 10, 6000 instances; best of 3"
echo "runs of analysis + every message and fix + JSON; peak RSS of a process that analyzes only that size."
echo "services  points     findings  pairs         json_bytes  best_ms      peak_rss_mb"
for services in 10 50 100 1000; do
  "$scratch/release/AnalysisBench" chained "$services"
done
