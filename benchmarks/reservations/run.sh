#!/usr/bin/env bash
# Reservation benchmarks: reserve+release against a bare SQLite
# transaction on the same file, against portpicker, 50-process contention
# against a pure-Python flock baseline (bench_flock.py), interleaved; then
# `status` against a sqlite3 SELECT of the same rows (bench_status.py), and
# `status` with the Docker engine answering against one curl GET of its
# container list (bench_docker_status.py; skipped without an engine).
# Not a test: prints figures only.
#   benchmarks/reservations/run.sh          the figures
#   benchmarks/reservations/run.sh contention   only the contention ratio
#   benchmarks/reservations/run.sh stress   also the full-size contention check
#                                           (50 processes x 200 cycles, O_EXCL markers;
#                                           make test runs 50 x 20)
# Contention sizes: $BENCH_PROCESSES (50), $BENCH_CYCLES (200), $BENCH_ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -e build/lib/libportmanager.so ] || scripts/build.sh lib
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu11 -Wall -Iinclude benchmarks/reservations/bench_reserve.c -o "$out/bench_reserve" \
   -Lbuild/lib -lportmanager -Wl,-rpath,"$PWD/build/lib" $(pkg-config --cflags --libs sqlite3)
if [ "${1:-}" != contention ]; then
  "$out/bench_reserve" "$out/state"
  python3 benchmarks/reservations/bench_portpicker.py
  [ -e build/bin/portmanager ] || scripts/build.sh cli
  python3 benchmarks/reservations/bench_status.py
  . scripts/venv.sh   # the Docker SDK and Tests/e2e's engine for the next one
  python3 benchmarks/reservations/bench_docker_status.py
fi

# Contention: the subject and the baseline take turns, each round in a fresh directory,
# so both see the same machine; the ratio is of the medians.
processes=${BENCH_PROCESSES:-50} cycles=${BENCH_CYCLES:-200} rounds=${BENCH_ROUNDS:-3}
ours=() theirs=()
for round in $(seq "$rounds"); do
  line=$(python3 benchmarks/reservations/bench_flock.py "$out/flock-$round" "$processes" "$cycles")
  echo "  round $round: $line"
  theirs+=("$(awk '{print $(NF-1)}' <<<"$line")")
  line=$("$out/bench_reserve" --contention "$out/contention-$round" "$processes" "$cycles")
  echo "  round $round: $line"
  ours+=("$(awk '{print $(NF-1)}' <<<"$line")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
x=$(median "${ours[@]}") y=$(median "${theirs[@]}")
echo "contention: portmanager $x cycles/s, flock baseline $y cycles/s, ratio $(awk -v x="$x" -v y="$y" 'BEGIN {printf "%.2f", x / y}')" \
     "($processes processes x $cycles cycles, median of $rounds interleaved rounds; goal >= 1.0)"

if [ "${1:-}" = stress ]; then
  PORTMANAGER_STRESS_PROCESSES=50 PORTMANAGER_STRESS_CYCLES=200 \
    python3 -m pytest -q bindings/python/tests/test_store_stress.py -k contention
fi
