#!/usr/bin/env bash
# Builds the self-contained release products into build/:
#   build/lib/libportmanager.so.1      the C library (static Swift stdlib, soname
#   build/lib/libportmanager.so        libportmanager.so.1, only pm_* exported)
#   build/bin/portmanager              the command-line tool
#   build/wheel-lib/libportmanager.so.1  (wheel-lib only) the library with libyaml
#                                      linked in, for the Python wheel
# Usage: scripts/build.sh [lib|cli|all|wheel-lib]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
what="${1:-all}"
out="$PWD/build"
mkdir -p "$out/lib" "$out/bin"

# The library, with the flags every copy of it gets (static Swift stdlib, version
# script, soname, nodelete), into build/$2 from scratch path $1.
build_library() {
  swift build -c release --scratch-path "$1" --product portmanager \
    -Xswiftc -static-stdlib \
    -Xlinker --version-script="$PWD/scripts/libportmanager.map" \
    -Xlinker -soname=libportmanager.so.1 \
    -Xlinker -z -Xlinker nodelete \
    -Xswiftc -use-ld=lld
  mkdir -p "$out/$2"
  install -m 0755 "$1/release/libportmanager.so" "$out/$2/libportmanager.so.1"
  strip --strip-unneeded "$out/$2/libportmanager.so.1"
  ln -sf libportmanager.so.1 "$out/$2/libportmanager.so"
}

if [ "$what" = lib ] || [ "$what" = all ]; then
  # A separate scratch path: these flags must not leak into the CLI or tests.
  # This copy NEEDs the system's libyaml-0.so.2, as a Debian package should
  # (lintian calls an embedded copy an error; libyaml's security fixes reach it).
  build_library .build/lib lib
fi

if [ "$what" = wheel-lib ]; then
  # The wheel's copy links libyaml statically (Debian's libyaml.a is
  # position-independent), so a wheel needs nothing bundled for it. SwiftPM
  # takes module CYaml's link flags from pkg-config's yaml-0.1; this build sees
  # a yaml-0.1.pc of our own naming a directory that holds only libyaml.a, so
  # every -lyaml is the archive.
  yaml_libdir="$(pkg-config --variable=libdir yaml-0.1)"
  if [ ! -f "$yaml_libdir/libyaml.a" ]; then
    echo "build.sh: $yaml_libdir/libyaml.a is missing; install libyaml-dev" >&2
    exit 2
  fi
  static_yaml="$PWD/.build/static-yaml"
  mkdir -p "$static_yaml/pkgconfig"
  ln -sfn "$yaml_libdir/libyaml.a" "$static_yaml/libyaml.a"
  printf '%s\n' "Name: yaml-0.1 (static, for libportmanager)" "Description: libyaml.a" \
    "Version: $(pkg-config --modversion yaml-0.1)" "Cflags: $(pkg-config --cflags yaml-0.1)" \
    "Libs: -L$static_yaml -lyaml" > "$static_yaml/pkgconfig/yaml-0.1.pc"
  # SQLite stays a shared library (auditwheel bundles it), but its .pc says
  # -L/usr/lib/<multiarch>, which SwiftPM passes on unfiltered: the linker would
  # then find libyaml.so there before the archive. This sqlite3.pc names no -L
  # (the linker's default directories still find libsqlite3.so).
  printf '%s\n' "Name: sqlite3 (no -L, for libportmanager's wheel build)" "Description: SQLite" \
    "Version: $(pkg-config --modversion sqlite3)" "Cflags: $(pkg-config --cflags sqlite3)" \
    "Libs: -lsqlite3" > "$static_yaml/pkgconfig/sqlite3.pc"
  PKG_CONFIG_PATH="$static_yaml/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
    build_library .build/lib-static-yaml wheel-lib
fi

if [ "$what" = cli ] || [ "$what" = all ]; then
  # Its own scratch path too (lld's identical code folding). Installing strips it.
  swift build -c release --scratch-path .build/cli --product portmanager-cli \
    -Xswiftc -static-stdlib -Xswiftc -use-ld=lld -Xlinker --icf=all
  install -m 0755 .build/cli/release/portmanager-cli "$out/bin/portmanager"
fi
