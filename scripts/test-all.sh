#!/usr/bin/env bash
# The test suites, what each runs, and `make test`'s schedule.
#
#   scripts/test-all.sh SUITE...   runs these suites one after the other (make test-SUITE)
#   scripts/test-all.sh            make test: every suite, in two lanes at once (below)
#
# Each suite runs even when another fails; the script fails if any did. Every
# suite's output is printed whole when it ends, with its wall time, and a table
# of the times closes the run.
#
# make test first builds what the suites share (make all man wheel dist deb: one
# release compile, scripts/build.sh) and the test venv (scripts/venv.sh); then the
# suites that compile Swift of their own (swift: debug build; sanitize: ASan build)
# and the package suite run in one lane while the others (lint, fuzz, c, cli,
# python, go: single-threaded, mostly; then e2e, which mostly waits on dockerd and
# the Temporal server, last) run in the second, which keeps both cores busy
# without two Swift builds fighting for them. No two suites write the same file:
# each has its own scratch path or build/ folder, and the shared artifacts are
# only read (scripts/build.sh replaces nothing that is up to date).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
. scripts/venv.sh

logs=build/test-logs
mkdir -p "$logs"

# suite_command SUITE: what the suite runs.
suite_command() {
  case "$1" in
    lint)     scripts/lint-pipes.py && scripts/lint-pipes.py --self-test ;;   # pipelines that fail at random under pipefail
    swift)    scripts/test-swift.sh ;;      # Swift Testing suites of the core and the edges
    c)        scripts/test-c.sh ;;          # ABI, header, libffi suite, memcheck, loadable, install
    cli)      scripts/test-cli.sh ;;        # the built CLI, end to end
    python)   scripts/test-python.sh ;;     # the ctypes binding
    go)       scripts/test-go.sh ;;         # the cgo binding, -race, the shared vectors
    e2e)      scripts/test-e2e.sh ;;        # a real Docker engine and Temporal server, end to end
    fuzz)     scripts/fuzz.sh --smoke ;;    # 45 s of libFuzzer, fixed seed
    sanitize) scripts/sanitize.sh ;;        # the C suites against an ASan+UBSan library
    package)  scripts/test-package.sh ;;    # version, wheel, tarball, deb
    *) echo "test-all.sh: unknown suite '$1'" >&2; return 2 ;;
  esac
}

# run_suite SUITE: runs it into its log, then prints the log and the time at once.
run_suite() {
  local suite="$1" start=$SECONDS rc
  suite_command "$suite" > "$logs/$suite.log" 2>&1
  rc=$?
  local seconds=$((SECONDS - start))
  echo "$suite $rc $seconds" > "$logs/$suite.result"
  {
    flock 9
    echo "=== test-$suite"
    cat "$logs/$suite.log"
    if [ $rc = 0 ]; then echo "=== test-$suite passed in $seconds s"
    else echo "=== test-$suite FAILED (exit $rc) in $seconds s"; fi
  } 9> "$logs/.print.lock"
  return $rc
}

lane() { local suite; for suite in "$@"; do run_suite "$suite"; done; }

if [ $# -gt 0 ]; then
  status=0
  for suite in "$@"; do
    suite_command "$suite" || status=1
  done
  exit $status
fi

all=(lint swift c cli python go e2e fuzz sanitize package)
rm -f "$logs"/*.result
start=$SECONDS
echo "=== build: make all man wheel dist deb"
make --no-print-directory all man wheel dist deb || { echo "=== build FAILED: no suite can run"; exit 1; }
build_seconds=$((SECONDS - start))
lane swift sanitize package &
lane1=$!
lane lint fuzz c cli python go e2e &
lane2=$!
wait $lane1 $lane2

echo "=== times (wall, two lanes at once)"
printf '    %-9s %5s s\n' build "$build_seconds"
passed=0 failed=0
for suite in "${all[@]}"; do
  if read -r _ rc seconds < "$logs/$suite.result" 2>/dev/null; then
    printf '    %-9s %5s s  %s\n' "$suite" "$seconds" "$([ "$rc" = 0 ] && echo passed || echo FAILED)"
    if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  else
    printf '    %-9s   did not finish\n' "$suite"; failed=$((failed + 1))
  fi
done
printf '    %-9s %5s s\n' total "$((SECONDS - start))"
echo "suites: $passed passed, $failed failed"
[ $failed = 0 ]
