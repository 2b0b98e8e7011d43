#!/usr/bin/env bash
# Builds the self-contained release products into build/, compiling the Swift
# sources once, in one scratch path (.build/release-pm), with the flags every
# product shares (static Swift stdlib, lld, -z nodelete; lld's identical code
# folding, which the library's own link below leaves out):
#
#   build/bin/portmanager                the command-line tool, as SwiftPM links it
#   build/lib/libportmanager.so.1        the C library: relinked from the same object
#   build/lib/libportmanager.so            files with the version script (only pm_*
#                                          exported) and the soname libportmanager.so.1;
#                                          NEEDs the system's libyaml-0.so.2, as a
#                                          Debian package should (lintian calls an
#                                          embedded copy an error)
#   build/man/portmanager.1              (man) the man page, from the command
#                                          definitions: swift-argument-parser's
#                                          generate-manual (built once, in the same
#                                          scratch path) asks build/bin/portmanager
#                                          for its help; examples become literal
#                                          displays, blank lines .Pp; dated by the last commit
#   build/wheel-lib/libportmanager.so.1  (wheel-lib) the same links with libyaml.a
#   build/wheel-lib/portmanager            linked in (Debian's is position-independent),
#                                          for the Python wheel
#
# The library's link command is SwiftPM's own (read from the build manifest
# .build/release-pm/release.yaml), plus those flags: no Swift is compiled twice.
# Outputs are replaced only when their input changed, and atomically, so test
# suites may run while `make` is asked for them again.
#
# Usage: scripts/build.sh [all|lib|cli|man|wheel-lib]   (default: all; lib and cli
# are all; man and wheel-lib build all too)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
what="${1:-all}"
case "$what" in all|lib|cli|man|wheel-lib) ;; *) echo "usage: scripts/build.sh [all|lib|cli|man|wheel-lib]" >&2; exit 2 ;; esac
out="$PWD/build"
scratch=.build/release-pm
swift_flags=(-c release --scratch-path "$scratch"
  -Xswiftc -static-stdlib -Xswiftc -use-ld=lld
  -Xlinker -z -Xlinker nodelete -Xlinker --icf=all)
# The CLI first (it compiles the whole core), then the library product (only
# PortManagerC is left to compile).
swift build "${swift_flags[@]}" --product portmanager-cli
swift build "${swift_flags[@]}" --product portmanager
bin="$(swift build "${swift_flags[@]}" --show-bin-path)"

# stale OUTPUT INPUT...: OUTPUT is missing or older than one of the INPUTs.
stale() {
  local output="$1" input; shift
  [ -e "$output" ] || return 0
  for input in "$@"; do [ "$input" -nt "$output" ] && return 0; done
  return 1
}

if stale "$out/bin/portmanager" "$bin/portmanager-cli"; then
  mkdir -p "$out/bin"
  install -m 0755 "$bin/portmanager-cli" "$out/bin/.portmanager.tmp"
  mv -f "$out/bin/.portmanager.tmp" "$out/bin/portmanager"
fi

# swiftpm_link PRODUCT OUTPUT [ARGUMENT...]: runs SwiftPM's own link command of
# PRODUCT (portmanager.dylib or portmanager-cli.exe, read from the build
# manifest) with -o OUTPUT and the ARGUMENTs put first. The library's link
# leaves out --icf=all (it keeps one address per exported function) and adds
# the version script (only pm_* exported) and the soname. Stripped.
swiftpm_link() {
  local product="$1" output="$2"; shift 2
  local argv=()
  mapfile -t argv < <(python3 - "$scratch/release.yaml" "$product" "$output" "$@" <<'PY'
import json, sys
manifest, product, output, *first = sys.argv[1:]
key = f'"C.{product.split(".")[0]}-x86_64-unknown-linux-gnu-release.{product.split(".")[1]}":'
lines = open(manifest, encoding="utf-8").read().splitlines()
try:
    start = next(i for i, line in enumerate(lines) if line.strip() == key)
except StopIteration:
    sys.exit(f"build.sh: no link command {key} in {manifest}")
args = next(json.loads(line.split("args:", 1)[1]) for line in lines[start:] if line.strip().startswith("args:"))
args[args.index("-o") + 1] = output
if product.endswith(".dylib"):
    while "--icf=all" in args:
        i = args.index("--icf=all")
        del args[i - 1:i + 1]          # "-Xlinker", "--icf=all"
args[1:1] = first
print("\n".join(args))
PY
)
  [ ${#argv[@]} -gt 1 ] || exit 2
  if [[ "$product" == *.dylib ]]; then
    argv+=(-Xlinker --version-script="$PWD/scripts/libportmanager.map" -Xlinker -soname=libportmanager.so.1)
  fi
  "${argv[@]}"
  strip --strip-unneeded "$output"
}

# link_library DIR [ARGUMENT...]: DIR/libportmanager.so.1 and its .so symlink.
link_library() {
  local dir="$1"; shift
  mkdir -p "$out/$dir"
  swiftpm_link portmanager.dylib "$out/$dir/.libportmanager.so.1.tmp" "$@"
  mv -f "$out/$dir/.libportmanager.so.1.tmp" "$out/$dir/libportmanager.so.1"
  ln -sfn libportmanager.so.1 "$out/$dir/libportmanager.so"
}

library_inputs=("$bin/libportmanager.so" scripts/libportmanager.map scripts/build.sh)
if [ "$what" = man ] && stale "$out/man/portmanager.1" "$out/bin/portmanager" scripts/build.sh; then
  swift build "${swift_flags[@]}" --product generate-manual
  date="$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}" +%Y-%m-%d)"
  pages="$(mktemp -d)"
  "$bin/generate-manual" "$out/bin/portmanager" --date "$date" --output-directory "$pages"
  [ -f "$pages/portmanager.1" ] || { echo "build.sh: generate-manual wrote no portmanager.1" >&2; exit 2; }
  mkdir -p "$out/man"
  # Lines indented by two spaces (the examples and tables of the help) become
  # literal displays, neither filled nor hyphenated; .nh turns hyphenation off
  # in the rest of the page, so no option name is ever broken.
  awk '
    /^\.Os/ { print; print ".nh"; next }
    /^  / { if (!literal) { print ".Bd -literal -offset 2n"; literal = 1 } print substr($0, 3); next }
    literal { print ".Ed"; literal = 0 }
    /^$/ { print ".Pp"; next }
    { print }
    END { if (literal) print ".Ed" }' "$pages/portmanager.1" > "$out/man/.portmanager.1.tmp"
  mv -f "$out/man/.portmanager.1.tmp" "$out/man/portmanager.1"
  rm -rf "$pages"
fi

if stale "$out/lib/libportmanager.so.1" "${library_inputs[@]}"; then
  link_library lib
fi

if [ "$what" = wheel-lib ] && stale "$out/wheel-lib/libportmanager.so.1" "${library_inputs[@]}"; then
  yaml_libdir="$(pkg-config --variable=libdir yaml-0.1)"
  if [ ! -f "$yaml_libdir/libyaml.a" ]; then
    echo "build.sh: $yaml_libdir/libyaml.a is missing; install libyaml-dev" >&2
    exit 2
  fi
  # Every -lyaml (pkg-config's, and the one module CYaml's `link "yaml"` puts
  # in the objects) finds first a folder that holds only libyaml.a.
  static_yaml="$PWD/.build/static-yaml"
  mkdir -p "$static_yaml"
  ln -sfn "$yaml_libdir/libyaml.a" "$static_yaml/libyaml.a"
  link_library wheel-lib "-L$static_yaml"
  # The CLI the wheel ships (its `portmanager` command), linked the same way.
  swiftpm_link portmanager-cli.exe "$out/wheel-lib/.portmanager.tmp" "-L$static_yaml"
  mv -f "$out/wheel-lib/.portmanager.tmp" "$out/wheel-lib/portmanager"
fi
