#!/usr/bin/env bash
# make sanitize: the C suites against a library built with AddressSanitizer,
# with UndefinedBehaviorSanitizer on the C side.
#
#   1. swift build --sanitize=address of the portmanager product, in its own
#      scratch path (.build-sanitize), so the release build and the tests are
#      untouched. (swiftc refuses -sanitize=undefined for Linux targets: Swift
#      code has its own checks, which trap on overflow and out-of-range access,
#      and a debug build keeps them all.)
#   2. Tests/c/test_fixed_calls.c and the libffi suite (every function, every
#      NULL and error path, threads, the conformance vectors), compiled with the
#      toolchain's clang and the same sanitizers, run against that library.
#
# Any sanitizer report fails the run (halt_on_error); leaks are checked too.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
. scripts/swift-env.sh
scratch=.build-sanitize
out="$root/build/sanitize"
mkdir -p "$out"
start=$SECONDS

swift build --scratch-path "$scratch" --product portmanager --sanitize=address \
  -Xlinker -z -Xlinker nodelete
lib="$root/$scratch/debug/libportmanager.so"
[ -f "$lib" ] || { echo "sanitize: $lib was not built" >&2; exit 2; }
echo "--- built $lib in $((SECONDS - start)) s"

runtime="$(dirname "$(clang -print-file-name=libclang_rt.asan-x86_64.so)")"
cc=(clang -fsanitize=address,undefined -shared-libasan -fno-omit-frame-pointer -g -O1 -Wl,-rpath,"$runtime")
# shellcheck disable=SC2046
"${cc[@]}" -std=c99 -Wall -Wextra -Werror -Iinclude $(pkg-config --cflags libffi) \
  Tests/c/ffi_suite.c Tests/c/ffi_conformance.c Tests/c/ffi_harness.c Tests/c/ffi_instances.c \
  -o "$out/ffi_suite" $(pkg-config --libs libffi) -ldl -lpthread
"${cc[@]}" -std=c99 -Wall -Wextra -Werror -Iinclude Tests/c/test_fixed_calls.c -o "$out/test_fixed_calls" \
  "$lib" -Wl,-rpath,"$(dirname "$lib")"

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/Tests/c/lsan.supp:print_suppressions=0"
registry="$root/dynamicconfig/port_registry.yaml"
status=0
echo "--- fixed: Tests/c/test_fixed_calls.c"
if "$out/test_fixed_calls" "$registry" > "$out/fixed.log" 2>&1; then
  echo "ok   test_fixed_calls"
else
  cat "$out/fixed.log"; echo "FAIL: test_fixed_calls under ASan+UBSan"; status=1
fi
echo "--- ffi: the libffi suite"
if "$out/ffi_suite" include/portmanager.sig "$lib" Tests/conformance/vectors.txt "$registry" > "$out/ffi.log" 2> "$out/ffi.stderr" \
   && grep -Eq '^[0-9]+ passed, 0 failed$' <<< "$(tail -n 1 "$out/ffi.log")"; then
  echo "ok   $(tail -n 1 "$out/ffi.log")"
else
  grep -v '^ok ' "$out/ffi.log" | tail -n 20; tail -n 60 "$out/ffi.stderr"
  echo "FAIL: the libffi suite under ASan+UBSan (logs: $out)"; status=1
fi
if grep -Eq 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer' "$out/ffi.stderr" "$out/fixed.log"; then
  echo "FAIL: a sanitizer reported a problem (logs: $out)"; status=1
fi
# The check must be able to fail: a caller that claims 64 bytes for a 4-byte
# buffer gets the library's write past it reported.
cat > "$out/planted.c" <<'C'
#include <stdlib.h>
#include "portmanager.h"
int main(int argc, char **argv) {
    pm_registry *r = NULL;
    if (argc < 2 || pm_registry_open(argv[1], &r) != PM_OK) return 2;
    char *small = malloc(4);
    size_t needed = 0;
    pm_container_name(r, "kafka", 1, small, 64, &needed); /* kafka-development-1: 20 bytes */
    free(small);
    pm_registry_close(r);
    return 0;
}
C
"${cc[@]}" -std=c99 -Iinclude "$out/planted.c" -o "$out/planted" "$lib" -Wl,-rpath,"$(dirname "$lib")"
if ! "$out/planted" "$registry" > "$out/planted.log" 2>&1 && grep -q 'heap-buffer-overflow' "$out/planted.log"; then
  echo "ok   a planted overflow inside the library is reported"
else
  echo "FAIL: a planted buffer overflow inside the library went unreported (the library is not instrumented?)"; status=1
fi

echo "=== sanitize: $((SECONDS - start)) s, $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
