#!/usr/bin/env bash
# Time and peak RSS of `portmanager check` (text and --json) on generated
# registries (gen_registry.py) of 1k, 10k and 100k services. Not a test.
#
#   check_time.sh [PORTMANAGER] [SIZES...]   default: build/bin/portmanager, 1000 10000 100000
#   RUNS=1 check_time.sh ...                  runs per size and mode (default 3)
#
# Prints, per size and mode, the best wall time of RUNS runs and the peak RSS
# of that run (/usr/bin/time -v), and the output's size in bytes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:-$here/../../build/bin/portmanager}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
echo "services  mode  best_s  peak_rss_mb  output_bytes"
for n in "${sizes[@]}"; do
  python3 "$here/gen_registry.py" "$n" > "$t/r.yaml"
  for mode in text json; do
    flags=(check --registry "$t/r.yaml" --ephemeral-range 32768-60999)
    [ "$mode" = json ] && flags+=(--json)
    best="" rss=""
    for _ in $(seq "${RUNS:-3}"); do
      # Exit 1: the registry has collisions, as it must.
      /usr/bin/time -v -o "$t/time" "$binary" "${flags[@]}" > "$t/out" 2> /dev/null || true
      wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t/time")"
      kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t/time")"
      if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN {exit !(a < b)}'; then best="$wall" rss="$kb"; fi
    done
    printf '%-8s  %-4s  %-6s  %-11s  %s\n' "$n" "$mode" "$best" "$((rss / 1024))" "$(wc -c < "$t/out")"
  done
done
