#!/usr/bin/env bash
# Runs every benchmark. Each prints its figures beside a baseline measured in
# the same run; none of them is a test and none fails on a slow machine.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for bench in benchmarks/core/run.sh benchmarks/analysis/run.sh benchmarks/python/run.sh benchmarks/go/run.sh benchmarks/reservations/run.sh benchmarks/probe/run.sh; do
  [ -x "$bench" ] || continue
  echo "=== $bench"
  "$bench" || status=1
done
exit $status
