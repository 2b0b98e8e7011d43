#!/usr/bin/env bash
# Builds the self-contained release products into build/:
#   build/lib/libportmanager.so.1      the C library (static Swift stdlib, soname
#   build/lib/libportmanager.so        libportmanager.so.1, only pm_* exported)
#   build/bin/portmanager              the command-line tool
# Usage: scripts/build.sh [lib|cli|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
what="${1:-all}"
out="$PWD/build"
mkdir -p "$out/lib" "$out/bin"

if [ "$what" = lib ] || [ "$what" = all ]; then
  # libyaml is linked statically (Debian's libyaml.a is position-independent),
  # so the library needs only libc, libm, libstdc++ and libgcc_s at run time and
  # a wheel needs nothing bundled for it. SwiftPM takes module CYaml's link flags
  # from pkg-config's yaml-0.1; for this build a yaml-0.1.pc of our own names a
  # directory that holds only libyaml.a, so every -lyaml is the archive.
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
  # A separate scratch path: these flags must not leak into the CLI or tests.
  PKG_CONFIG_PATH="$static_yaml/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
  swift build -c release --scratch-path .build/lib --product portmanager \
    -Xswiftc -static-stdlib \
    -Xlinker --version-script="$PWD/scripts/libportmanager.map" \
    -Xlinker -soname=libportmanager.so.1 \
    -Xlinker -z -Xlinker nodelete \
    -Xswiftc -use-ld=lld
  install -m 0755 .build/lib/release/libportmanager.so "$out/lib/libportmanager.so.1"
  strip --strip-unneeded "$out/lib/libportmanager.so.1"
  ln -sf libportmanager.so.1 "$out/lib/libportmanager.so"
fi

if [ "$what" = cli ] || [ "$what" = all ]; then
  swift build -c release --product portmanager-cli -Xswiftc -static-stdlib
  install -m 0755 .build/release/portmanager-cli "$out/bin/portmanager"
fi
