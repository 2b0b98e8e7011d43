#!/usr/bin/env bash
# Installs libportmanager, its header and pkg-config file, the CLI and the
# shipped registry under PREFIX (below DESTDIR when set, for packaging):
#
#   $PREFIX/lib/libportmanager.so.1.<VERSION>   the library (soname libportmanager.so.1)
#   $PREFIX/lib/libportmanager.so.1             -> libportmanager.so.1.<VERSION>
#   $PREFIX/lib/libportmanager.so               -> libportmanager.so.1 (for -lportmanager)
#   $PREFIX/include/portmanager.h
#   $PREFIX/include/portmanager.sig            the signature table (for libffi/ctypes binders)
#   $PREFIX/lib/pkgconfig/portmanager.pc
#   $PREFIX/bin/portmanager                     the CLI
#   $PREFIX/share/portmanager/port_registry.yaml
#
# Usage: scripts/install.sh PREFIX      (DESTDIR taken from the environment)
# Needs build/lib/libportmanager.so.1 and build/bin/portmanager (make all).
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${1:-${PREFIX:-}}"
if [ -z "$prefix" ]; then
  echo "install.sh: give the prefix: scripts/install.sh PREFIX (or make install PREFIX=...)" >&2
  exit 2
fi
case "$prefix" in
  /*) ;;
  *) echo "install.sh: PREFIX must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac
prefix="${prefix%/}"
destdir="${DESTDIR:-}"
root="$destdir$prefix"

header=include/portmanager.h
macro() { sed -n "s/^#define $1 \\(.*\\)$/\\1/p" "$header" | tr -d '"'; }
version="$(macro PM_VERSION_STRING)"
abi="$(macro PM_ABI_VERSION)"
if [ -z "$version" ] || [ -z "$abi" ]; then
  echo "install.sh: cannot read PM_VERSION_STRING / PM_ABI_VERSION from $header" >&2
  exit 2
fi
soname="libportmanager.so.$abi"
real="libportmanager.so.$abi.$version"

for built in "build/lib/$soname" build/bin/portmanager dynamicconfig/port_registry.yaml; do
  if [ ! -f "$built" ]; then
    echo "install.sh: $built is missing; run 'make all' first" >&2
    exit 2
  fi
done
actual_soname="$(readelf -d "build/lib/$soname" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
if [ "$actual_soname" != "$soname" ]; then
  echo "install.sh: build/lib/$soname has soname '$actual_soname', expected '$soname'" >&2
  exit 2
fi

install -d "$root/lib/pkgconfig" "$root/include" "$root/bin" "$root/share/portmanager"
install -m 0755 "build/lib/$soname" "$root/lib/$real"
ln -sfn "$real" "$root/lib/$soname"
ln -sfn "$soname" "$root/lib/libportmanager.so"
install -m 0644 "$header" include/portmanager.sig "$root/include/"
install -m 0755 build/bin/portmanager "$root/bin/portmanager"
install -m 0644 dynamicconfig/port_registry.yaml "$root/share/portmanager/port_registry.yaml"
sed -e "s|@PREFIX@|$prefix|g" \
    -e "s|@LIBDIR@|\${prefix}/lib|g" \
    -e "s|@INCLUDEDIR@|\${prefix}/include|g" \
    -e "s|@DATADIR@|\${prefix}/share|g" \
    -e "s|@VERSION@|$version|g" \
    scripts/portmanager.pc.in > "$root/lib/pkgconfig/portmanager.pc"
chmod 0644 "$root/lib/pkgconfig/portmanager.pc"

echo "installed portmanager $version into $root"
