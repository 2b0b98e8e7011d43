#!/usr/bin/env bash
# The C-level tests of libportmanager (make test-c, after make lib):
#
#   abi        header, signature table (include/portmanager.sig) and exported
#              symbols agree; only pm_* exported; soname; no Swift/Foundation NEEDED
#   header     portmanager.h compiles clean as C99, C11 and C++17 (gcc, g++, clang, clang++)
#   fixed      Tests/c/test_fixed_calls.c, -std=c99 -Wall -Wextra -Werror, linked to the .so
#   threads    Tests/c/test_log_threads.c: log callback swaps under 8 logging
#              threads (0 late calls), re-entry, 1,000 forks while 3 threads log
#              (0 hung children)
#   forks      Tests/c/test_fork_store.c: log callbacks that reserve, fork or wait
#              for another process's reserve; fork() latency while 8 threads reserve;
#              1,000 forks while 3 threads log pm_get_port (0 hung children); 30
#              fresh processes forking while threads make their first calls (0 hung)
#   races      Tests/c/test_store_races.c: 200 rounds of 5 processes making the
#              first reservation in an empty state directory at once (0 failures)
#   ffi        Tests/c ffi_suite: every function through libffi + the conformance vectors
#   memcheck   the ffi suite under valgrind (also: make memcheck)
#   loadable   python3 ctypes loads the .so under env -i with the Swift toolchain
#              hidden ($SWIFT_TOOLCHAIN, scripts/swift-env.sh)
#   install    make install into a temporary prefix, build bindings/c/pm-env with
#              pkg-config, run it
#
# Usage: scripts/test-c.sh [STEP ...]   (default: every step)
# Each step runs even if an earlier one failed; the script fails if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
. scripts/swift-env.sh
. scripts/venv.sh   # the Python of the ABI check and the loadable step, in .build/venv
. scripts/no-engine.sh   # not the machine's Docker engine

lib="$root/build/lib/libportmanager.so"
out="$root/build/test-c"
mkdir -p "$out"
header=include/portmanager.h
table=include/portmanager.sig
vectors=Tests/conformance/vectors.txt
registry="$root/dynamicconfig/port_registry.yaml"
warn=(-Wall -Wextra -Werror -pedantic)

failed_steps=()
step() { echo "--- $1"; }
fail() { echo "FAIL: $*"; }

if [ ! -f "$lib" ]; then
  echo "test-c.sh: $lib is missing; run 'make lib' first" >&2
  exit 2
fi

# ------------------------------------------------------------------------ abi
run_abi() {
  step "abi: header, table and exported symbols"
  python3 Tests/c/check_abi.py "$header" "$table" "$lib" || return 1
  # The check must be able to fail: a table without one row, and a header
  # declaring a function the library lacks, are both refused.
  local t; t="$(mktemp -d)"
  grep -v '^pm_get_port ' "$table" > "$t/missing-row.sig"
  sed 's|^PM_API uint32_t pm_abi_version(void);|&\nPM_API int pm_not_in_library(void);|' "$header" > "$t/extra.h"
  local ok=0
  if python3 Tests/c/check_abi.py "$header" "$t/missing-row.sig" "$lib" > "$t/log" 2>&1; then
    fail "check_abi.py accepted a table without pm_get_port"; ok=1
  fi
  if ! grep -q pm_not_in_library "$t/extra.h"; then
    fail "could not plant a declaration in a copy of the header"; ok=1
  elif python3 Tests/c/check_abi.py "$t/extra.h" "$table" "$lib" > "$t/log" 2>&1; then
    fail "check_abi.py accepted a header declaring pm_not_in_library"; ok=1
  fi
  rm -rf "$t"
  [ $ok = 0 ] && echo "ok   check_abi.py refuses a missing row and an extra declaration"
  return $ok
}

# --------------------------------------------------------------------- header
run_header() {
  step "header: C99, C11, C++17 with -Wall -Wextra -Werror -pedantic"
  local ok=0 cc cxx std
  for cc in gcc clang; do
    command -v "$cc" >/dev/null || { echo "skip $cc (not installed)"; continue; }
    for std in c99 c11; do
      if "$cc" -std=$std "${warn[@]}" -Iinclude -c Tests/c/header_hygiene.c -o /dev/null; then
        echo "ok   $cc -std=$std"
      else
        fail "$cc -std=$std"; ok=1
      fi
    done
  done
  for cxx in g++ clang++; do
    command -v "$cxx" >/dev/null || { echo "skip $cxx (not installed)"; continue; }
    if "$cxx" -x c++ -std=c++17 "${warn[@]}" -Iinclude -c Tests/c/header_hygiene.c -o /dev/null; then
      echo "ok   $cxx -std=c++17"
    else
      fail "$cxx -std=c++17"; ok=1
    fi
  done
  command -v gcc >/dev/null && command -v g++ >/dev/null || { fail "gcc and g++ are required"; ok=1; }
  return $ok
}

# ---------------------------------------------------------------------- fixed
run_fixed() {
  step "fixed: the fixed calls, C99, linked against the .so"
  gcc -std=c99 -Wall -Wextra -Werror -Iinclude Tests/c/test_fixed_calls.c -o "$out/test_fixed_calls" \
    -L"$root/build/lib" -lportmanager -Wl,-rpath,"$root/build/lib" || return 1
  "$out/test_fixed_calls" "$registry"
}

# counted NAME ARG...: builds Tests/c/NAME.c against build/lib, runs it with
# ARGs into a log, prints what is not an `ok` line, and passes when it closes
# with "N passed, 0 failed" (every such program runs its children under alarm():
# a hang fails, it cannot stick).
counted() {
  local name="$1"; shift
  gcc -std=c11 -Wall -Wextra -Werror -O1 -g -Iinclude "Tests/c/$name.c" -o "$out/$name" \
    -L"$root/build/lib" -lportmanager -Wl,-rpath,"$root/build/lib" -lpthread || return 1
  local log="$out/$name.log"
  "$out/$name" "$@" > "$log" 2>&1
  local rc=$?
  grep -v '^ok ' "$log"
  [[ "$(tail -n 1 "$log")" =~ ^[0-9]+\ passed,\ 0\ failed$ ]] || { fail "$name did not finish cleanly"; return 1; }
  return $rc
}

# -------------------------------------------------------------------- threads
run_threads() {
  step "threads: callback swaps under logging threads, re-entry, fork while logging"
  counted test_log_threads "$registry"
}

# ---------------------------------------------------------------------- forks
run_forks() {
  step "forks: callbacks that reserve or fork, fork() while threads reserve or make their first calls"
  counted test_fork_store "$registry"
}

# ---------------------------------------------------------------------- races
run_races() {
  step "races: 200 rounds of 5 processes making the first reservation in an empty store"
  counted test_store_races "$registry" redis 200
}

# ------------------------------------------------------------------------ ffi
build_ffi() {
  # shellcheck disable=SC2046
  gcc -std=c99 -Wall -Wextra -Werror -g -O1 -Iinclude $(pkg-config --cflags libffi) \
    Tests/c/ffi_suite.c Tests/c/ffi_conformance.c Tests/c/ffi_harness.c Tests/c/ffi_instances.c \
    -o "$out/ffi_suite" $(pkg-config --libs libffi) -ldl -lpthread
}

run_ffi() {
  step "ffi: every function through libffi, and the conformance vectors"
  build_ffi || return 1
  local log="$out/ffi_suite.log"
  "$out/ffi_suite" "$table" "$lib" "$vectors" "$registry" > "$log" 2> "$out/ffi_suite.stderr"
  local rc=$?
  grep -v '^ok ' "$log"
  # The closing line must be there: a crash before it is a failure even with rc 0.
  grep -Eq '^[0-9]+ passed, 0 failed$' <<< "$(tail -n 1 "$log")" || { fail "ffi_suite did not finish cleanly"; return 1; }
  return $rc
}

# ------------------------------------------------------------------- memcheck
run_memcheck() {
  step "memcheck: the ffi suite under valgrind"
  if ! command -v valgrind >/dev/null; then
    fail "valgrind is not installed (apt-get install valgrind)"
    return 1
  fi
  build_ffi || return 1
  local log="$out/memcheck.log"
  valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --suppressions=Tests/c/valgrind.supp --num-callers=30 \
    "$out/ffi_suite" "$table" "$lib" "$vectors" "$registry" > "$out/memcheck.stdout" 2> "$log"
  local rc=$? ok=0
  grep -E 'definitely lost:|indirectly lost:|possibly lost:|still reachable:|ERROR SUMMARY:|All heap blocks' "$log" | sed 's/^==[0-9]*== */    /'
  tail -n 1 "$out/memcheck.stdout"
  [ $rc = 0 ] || { fail "valgrind exit status $rc (details: $log)"; ok=1; }
  grep -q 'ERROR SUMMARY: 0 errors' "$log" || { fail "memcheck reported errors (invalid reads/writes?): $log"; ok=1; }
  if ! grep -q 'All heap blocks were freed' "$log"; then
    grep -q 'definitely lost: 0 bytes in 0 blocks' "$log" || { fail "memory definitely lost: $log"; ok=1; }
    grep -q 'indirectly lost: 0 bytes in 0 blocks' "$log" || { fail "memory indirectly lost: $log"; ok=1; }
  fi
  grep -Eq '^[0-9]+ passed, 0 failed$' <<< "$(tail -n 1 "$out/memcheck.stdout")" || { fail "the suite failed under valgrind"; ok=1; }
  return $ok
}

# ------------------------------------------------------------------- loadable
run_loadable() {
  step "loadable: ctypes under env -i, the Swift toolchain (${SWIFT_TOOLCHAIN:-none found}) hidden"
  local python; python="$(command -v python3)"
  local probe="import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.pm_abi_version.restype = ctypes.c_uint32
h = ctypes.c_void_p()
assert lib.pm_registry_open(sys.argv[2].encode(), ctypes.byref(h)) == 0
port = ctypes.c_uint16()
assert lib.pm_get_port(h, b'kafka', 1, b'broker_port', ctypes.byref(port)) == 0, 'pm_get_port'
lib.pm_registry_close(h)
print('loaded ABI', lib.pm_abi_version(), 'kafka 1 broker_port', port.value)
sys.exit(0 if port.value == 9192 else 1)"
  local empty; empty="$(mktemp -d)"
  # Hide the toolchain in a private mount namespace (needs root or user namespaces).
  local flags=(-m); [ "$(id -u)" = 0 ] || flags+=(--map-root-user)
  local toolchain="$SWIFT_TOOLCHAIN"
  if [ -n "$toolchain" ] && [ -d "$toolchain" ] && unshare "${flags[@]}" true 2>/dev/null; then
    if unshare "${flags[@]}" /bin/sh -c '
        mount --bind "$1" "$2" || exit 3
        [ -z "$(ls -A "$2")" ] || { echo "$2 is not hidden"; exit 3; }
        shift 2; exec env -i "$@"' sh "$empty" "$toolchain" "$python" -c "$probe" "$lib" "$registry"; then
      echo "ok   loads and answers with $toolchain hidden and an empty environment"
      rmdir "$empty"; return 0
    fi
    rmdir "$empty"
    fail "libportmanager.so does not load without the Swift toolchain"
    return 1
  fi
  rmdir "$empty"
  echo "note: cannot hide the Swift toolchain here (none found, or no mount namespace); checking the dependencies instead"
  if ldd "$lib" | grep -E 'not found|swift'; then
    fail "the library depends on the Swift toolchain"; return 1
  fi
  env -i "$python" -c "$probe" "$lib" "$registry"
}

# One vocabulary: pm-env prints exactly what `portmanager env` prints (README,
# "Environment variables"), for every instance of every service of the shipped
# registry, in each format both have, and for a registry with an environment,
# ranges with fixed container ports and names that need mapping to '_'.
# Usage: same_vocabulary DIR CLI REGISTRY (DIR holds pm-env).
same_vocabulary() {
  local t="$1" cli="$2" registry="$3" ok=0 checked=0 service max instance
  local edge="$t/edge.yaml"
  printf '%s\n' '_environments:' '  ci: 1000' 'mongo-express.v2:' '  port: 42081' \
    '  web_port: {host: 42090, container: 8080}' '  r_port: {host: "42100-42102", container: "7100-7102"}' \
    '  9_port: 42110' '  max_instances: 3' > "$edge"
  while read -r service max; do
    for ((instance = 0; instance < max; instance++)); do
      for format in "" --export; do
        if ! diff -u --label "portmanager env $service -i $instance $format" --label "pm-env $format $service $instance" \
             <("$cli" env "$service" --instance "$instance" $format --registry "$registry" 2>&1) \
             <("$t/pm-env" $format --registry "$registry" "$service" "$instance" 2>&1); then
          ok=1
        fi
        checked=$((checked + 1))
      done
      # compose --env-file writes the same lines, unquoted (every value here is plain).
      diff -u <("$cli" compose "$service" --instance "$instance" --env-file --registry "$registry" 2>&1) \
              <("$t/pm-env" --registry "$registry" "$service" "$instance" 2>&1) || ok=1
    done
  done < <("$cli" list --json --registry "$registry" \
             | python3 -c 'import json, sys; [print(s["name"], s["max_instances"]) for s in json.load(sys.stdin)["services"]]')
  [ "$checked" -gt 100 ] || { fail "same vocabulary: only $checked outputs compared"; ok=1; }
  local args
  for args in "mongo-express.v2 2" "--env ci mongo-express.v2 1" "--prefix Edge_1 mongo-express.v2 0" \
              "--export --env ci --prefix X mongo-express.v2 2"; do
    # shellcheck disable=SC2086
    set -- $args
    local cli_args=() pm_args=() word
    while [ $# -gt 2 ]; do cli_args+=("$1"); pm_args+=("$1"); shift; done
    diff -u <("$cli" env "$1" --instance "$2" "${cli_args[@]}" --registry "$edge" 2>&1) \
            <("$t/pm-env" "${pm_args[@]}" --registry "$edge" "$1" "$2" 2>&1) || ok=1
    checked=$((checked + 1))
  done
  # Two ports giving one variable: both refuse, exit 2, with the same message and no output.
  printf '%s\n' 'svc:' '  A_port: 42000' '  a_port: 42001' > "$t/twice.yaml"
  local message="service 'svc' gives the variable SVC_A_PORT twice; its port names differ only in case or punctuation"
  local out err rc
  out="$("$t/pm-env" --registry "$t/twice.yaml" svc 0 2> "$t/twice.err")"; rc=$?; err="$(cat "$t/twice.err")"
  [ $rc = 2 ] && [ -z "$out" ] && [ "$err" = "pm-env: $message" ] || { fail "pm-env twice: exit $rc, '$out', '$err'"; ok=1; }
  out="$("$cli" env svc --instance 0 --registry "$t/twice.yaml" 2> "$t/twice.err")"; rc=$?; err="$(cat "$t/twice.err")"
  [ $rc = 2 ] && [ -z "$out" ] && [ "$err" = "portmanager: error: $message" ] \
    || { fail "portmanager env twice: exit $rc, '$out', '$err'"; ok=1; }
  if [ $ok = 0 ]; then echo "ok   pm-env prints what portmanager env prints ($checked outputs compared)"
  else fail "pm-env and portmanager env disagree (diffs above)"; fi
  return $ok
}

# -------------------------------------------------------------------- install
run_install() {
  step "install: make install into a temporary prefix, build and run pm-env with pkg-config"
  if [ ! -x build/bin/portmanager ]; then
    scripts/build.sh cli || { fail "cannot build the CLI for the install"; return 1; }
  fi
  local t; t="$(mktemp -d)"
  local prefix="$t/prefix" ok=0
  make --no-print-directory install PREFIX="$prefix" > "$t/install.log" 2>&1 \
    || { cat "$t/install.log"; fail "make install"; rm -rf "$t"; return 1; }
  local f
  for f in lib/libportmanager.so lib/libportmanager.so.1 include/portmanager.h include/portmanager.sig \
           lib/pkgconfig/portmanager.pc bin/portmanager share/portmanager/port_registry.yaml; do
    [ -e "$prefix/$f" ] || { fail "make install did not install $f"; ok=1; }
  done
  [ "$(readlink "$prefix/lib/libportmanager.so")" = libportmanager.so.1 ] || { fail "libportmanager.so symlink"; ok=1; }
  local real; real="$(readlink "$prefix/lib/libportmanager.so.1")"
  [[ "$real" == libportmanager.so.1.* && -f "$prefix/lib/$real" && ! -L "$prefix/lib/$real" ]] \
    || { fail "libportmanager.so.1 should point at the real file, not '$real'"; ok=1; }

  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  local flags; flags="$(pkg-config --cflags --libs portmanager)" || { fail "pkg-config portmanager"; rm -rf "$t"; return 1; }
  echo "    pkg-config --cflags --libs portmanager: $flags"
  [ "$(pkg-config --modversion portmanager)" = "$(sed -n 's/^#define PM_VERSION_STRING "\(.*\)"/\1/p' "$header")" ] \
    || { fail "pkg-config --modversion disagrees with PM_VERSION_STRING"; ok=1; }
  local libdir; libdir="$(pkg-config --variable=libdir portmanager)"
  # shellcheck disable=SC2086
  if ! gcc -std=c99 "${warn[@]}" bindings/c/pm-env.c -o "$t/pm-env" $flags -Wl,-rpath,"$libdir"; then
    fail "building bindings/c/pm-env.c with pkg-config"; rm -rf "$t"; return 1
  fi
  # ldd's whole output first: piping ldd into an early-exiting grep under pipefail fails at random (SIGPIPE).
  local deps; deps="$(ldd "$t/pm-env")"
  grep -qF "libportmanager.so.1 => $prefix/lib/libportmanager.so.1" <<< "$deps" \
    || { echo "$deps"; fail "pm-env does not load the installed library"; ok=1; }

  local registry_installed="$(pkg-config --variable=registry portmanager)" got expected
  got="$(cd "$t" && "$t/pm-env" --registry "$registry_installed" kafka 1)"
  expected="KAFKA_BROKER_PORT=9192
KAFKA_CONTROLLER_PORT=19193
KAFKA_CONTAINER_NAME=kafka-development-1
KAFKA_VOLUME_NAME=kafka-data-1"
  [ "$got" = "$expected" ] && echo "ok   pm-env kafka 1" || { fail "pm-env kafka 1 printed:"; echo "$got"; ok=1; }
  got="$(cd "$t" && PORTMANAGER_REGISTRY="$registry_installed" "$t/pm-env" --export --prefix ARGO argocd 2)"
  grep -qx 'export ARGO_SERVER_PORT=8290' <<< "$got" && grep -qx 'export ARGO_SERVER_PORT_CONTAINER=8080' <<< "$got" \
    && echo "ok   pm-env --export --prefix ARGO argocd 2" || { fail "pm-env argocd 2 printed:"; echo "$got"; ok=1; }
  got="$(cd "$t" && PORTMANAGER_REGISTRY="$registry_installed" "$t/pm-env" traefik 1)"
  grep -qx 'TRAEFIK_ENTRYPOINT_PORT=31101-31103' <<< "$got" && grep -qx 'TRAEFIK_ENTRYPOINT_PORT_FIRST=31101' <<< "$got" \
    && grep -qx 'TRAEFIK_ENTRYPOINT_PORT_LAST=31103' <<< "$got" && echo "ok   pm-env traefik 1 range" \
    || { fail "pm-env traefik 1 range:"; echo "$got"; ok=1; }
  same_vocabulary "$t" "$prefix/bin/portmanager" "$registry_installed" || ok=1
  # Errors: the exit status and the library's message.
  local rc err
  err="$(cd "$t" && "$t/pm-env" --registry "$registry_installed" kafka 10 2>&1 >/dev/null)"; rc=$?
  [ $rc = 2 ] && [[ "$err" == *"allowed: 0..9"* ]] && echo "ok   pm-env kafka 10 fails with 2, as portmanager env does" \
    || { fail "pm-env kafka 10: exit $rc, '$err'"; ok=1; }
  err="$(cd "$t" && "$t/pm-env" --registry "$registry_installed" kafak 2>&1 >/dev/null)"; rc=$?
  [ $rc = 2 ] && [[ "$err" == *"did you mean 'kafka'"* ]] && echo "ok   pm-env kafak fails with 2, as portmanager env does" \
    || { fail "pm-env kafak: exit $rc, '$err'"; ok=1; }
  local cli_rc; "$prefix/bin/portmanager" env kafak -i 0 --registry "$registry_installed" > /dev/null 2>&1; cli_rc=$?
  [ $cli_rc = $rc ] && echo "ok   pm-env and portmanager env exit alike on an unknown service ($rc)" \
    || { fail "unknown service: pm-env exits $rc, portmanager env $cli_rc"; ok=1; }
  # Without --registry or $PORTMANAGER_REGISTRY, from a directory with none, the
  # library finds the registry installed beside it (PREFIX/share/portmanager).
  got="$(cd "$t" && env -u PORTMANAGER_REGISTRY XDG_CONFIG_HOME="$t" "$t/pm-env" kafka 1 2>&1)"; rc=$?
  [ $rc = 0 ] && [[ "$got" == *"KAFKA_BROKER_PORT=9192"* ]] && echo "ok   pm-env finds the installed registry" \
    || { fail "pm-env without a registry: exit $rc, '$got'"; ok=1; }
  err="$(cd "$t" && "$t/pm-env" kafka one 2>&1 >/dev/null)"; rc=$?
  [ $rc = 2 ] && [[ "$err" == *"'one'"* ]] && echo "ok   pm-env kafka one fails with 2" \
    || { fail "pm-env kafka one: exit $rc, '$err'"; ok=1; }
  "$prefix/bin/portmanager" --help > /dev/null 2>&1 && echo "ok   the installed CLI runs" \
    || { fail "the installed bin/portmanager does not run"; ok=1; }

  # DESTDIR: the files go below it, the .pc file names the final prefix.
  make --no-print-directory install PREFIX=/opt/pm DESTDIR="$t/stage" > "$t/install2.log" 2>&1 \
    || { cat "$t/install2.log"; fail "make install DESTDIR=..."; ok=1; }
  grep -qx 'prefix=/opt/pm' "$t/stage/opt/pm/lib/pkgconfig/portmanager.pc" 2>/dev/null \
    && [ -f "$t/stage/opt/pm/include/portmanager.h" ] && echo "ok   make install DESTDIR=... PREFIX=/opt/pm" \
    || { fail "DESTDIR install layout"; ok=1; }
  unset PKG_CONFIG_PATH
  rm -rf "$t"
  return $ok
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(abi header fixed threads forks races ffi memcheck loadable install)
for s in "${steps[@]}"; do
  case "$s" in
    abi|header|fixed|threads|forks|races|ffi|memcheck|loadable|install) "run_$s" || failed_steps+=("$s") ;;
    *) echo "test-c.sh: unknown step '$s'" >&2; exit 2 ;;
  esac
done
echo "=== test-c: ${#steps[@]} steps, ${#failed_steps[@]} failed${failed_steps[*]:+: ${failed_steps[*]}}"
[ ${#failed_steps[@]} = 0 ]
