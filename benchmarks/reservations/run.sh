#!/usr/bin/env bash
# Reservation benchmarks: reserve+release against a bare SQLite
# transaction on the same file, against portpicker, and 50-process contention;
# then `status` against a sqlite3 SELECT of the same rows (bench_status.py).
# Not a test: prints figures only.
#   benchmarks/reservations/run.sh          the figures
#   benchmarks/reservations/run.sh stress   also the full-size contention check
#                                           (50 processes x 200 cycles, O_EXCL markers;
#                                           make test runs 50 x 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -e build/lib/libportmanager.so ] || scripts/build.sh lib
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu11 -Iinclude benchmarks/reservations/bench_reserve.c -o "$out/bench_reserve" \
   -Lbuild/lib -lportmanager -Wl,-rpath,"$PWD/build/lib" $(pkg-config --cflags --libs sqlite3)
"$out/bench_reserve" "$out/state" 50 200
python3 benchmarks/reservations/bench_portpicker.py
[ -e build/bin/portmanager ] || scripts/build.sh cli
python3 benchmarks/reservations/bench_status.py
if [ "${1:-}" = stress ]; then
  PORTMANAGER_STRESS_PROCESSES=50 PORTMANAGER_STRESS_CYCLES=200 \
    python3 -m pytest -q bindings/python/tests/test_store_stress.py -k contention
fi
