#!/usr/bin/env bash
# Benchmark of the whole-lattice analysis: builds in release and prints the
# table (1k, 10k, 100k services x 10 instances x 3 ports), with the ratio to a
# plain sort of as many integers measured in the same run. Not a test.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/opt/swift/usr/bin:$PATH" SWIFT_BACKTRACE=enable=no
scratch="../../.build-bench-analysis"
swift build -c release --scratch-path "$scratch" >&2
"$scratch/release/AnalysisBench"
