#!/usr/bin/env bash
# Installs libportmanager, its header and pkg-config file, the CLI and the
# shipped registry under PREFIX (below DESTDIR when set, for packaging):
#
#   $LIBDIR/libportmanager.so.1.<VERSION>   the library (soname libportmanager.so.1)
#   $LIBDIR/libportmanager.so.1             -> libportmanager.so.1.<VERSION>
#   $LIBDIR/libportmanager.so               -> libportmanager.so.1 (for -lportmanager)
#   $LIBDIR/pkgconfig/portmanager.pc
#   $PREFIX/include/portmanager.h
#   $PREFIX/include/portmanager.sig        the signature table (for libffi/ctypes binders)
#   $PREFIX/bin/portmanager                 the CLI
#   $PREFIX/share/portmanager/port_registry.yaml
#   $PREFIX/share/doc/portmanager/*.md, schema/  the documentation (docs/), which
#                                           `portmanager --help` points to
#   $PREFIX/share/man/man1/portmanager.1.gz     the man page (make man)
#   $PREFIX/share/bash-completion/completions/portmanager
#   $PREFIX/share/zsh/vendor-completions/_portmanager
#   $PREFIX/share/fish/vendor_completions.d/portmanager.fish
#
# LIBDIR is $PREFIX/lib unless the environment sets LIBDIR (an absolute path
# below PREFIX, such as /usr/lib/x86_64-linux-gnu for a Debian package).
# Binaries are installed stripped; STRIP_MODE=0 keeps them as built.
#
# Usage: scripts/install.sh PREFIX      (DESTDIR and LIBDIR taken from the environment)
# Needs build/lib/libportmanager.so.1, build/bin/portmanager (make all) and
# build/man/portmanager.1 (make man). The completion scripts come from the CLI.
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
libdir="${LIBDIR:-$prefix/lib}"
libdir="${libdir%/}"
case "$libdir" in
  "$prefix"/*) ;;
  *) echo "install.sh: LIBDIR must be an absolute path below PREFIX ($prefix), not '$libdir'" >&2; exit 2 ;;
esac
libroot="$destdir$libdir"

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

for built in "build/lib/$soname" build/bin/portmanager build/man/portmanager.1 dynamicconfig/port_registry.yaml; do
  if [ ! -f "$built" ]; then
    echo "install.sh: $built is missing; run 'make all man' first" >&2
    exit 2
  fi
done
actual_soname="$(readelf -d "build/lib/$soname" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
if [ "$actual_soname" != "$soname" ]; then
  echo "install.sh: build/lib/$soname has soname '$actual_soname', expected '$soname'" >&2
  exit 2
fi

install -d "$libroot/pkgconfig" "$root/include" "$root/bin" "$root/share/portmanager"
# A shared library needs no execute bit (Debian policy 8.1); ld.so maps it all the same.
install -m 0644 "build/lib/$soname" "$libroot/$real"
ln -sfn "$real" "$libroot/$soname"
ln -sfn "$soname" "$libroot/libportmanager.so"
install -m 0644 "$header" include/portmanager.sig "$root/include/"
install -m 0755 build/bin/portmanager "$root/bin/portmanager"
if [ "${STRIP_MODE:-1}" != 0 ]; then
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$libroot/$real"
  strip --remove-section=.comment --remove-section=.note "$root/bin/portmanager"
fi
install -m 0644 dynamicconfig/port_registry.yaml "$root/share/portmanager/port_registry.yaml"
install -d "$root/share/doc/portmanager/schema"
install -m 0644 docs/*.md "$root/share/doc/portmanager/"
install -m 0644 docs/schema/*.json "$root/share/doc/portmanager/schema/"
install -d "$root/share/man/man1" "$root/share/bash-completion/completions" \
           "$root/share/zsh/vendor-completions" "$root/share/fish/vendor_completions.d"
gzip -9n < build/man/portmanager.1 > "$root/share/man/man1/portmanager.1.gz"
# bash-completion sources the file: no #! line (lintian: bash-completion-with-hashbang).
build/bin/portmanager --generate-completion-script bash | sed '1{/^#!/d}' > "$root/share/bash-completion/completions/portmanager"
build/bin/portmanager --generate-completion-script zsh > "$root/share/zsh/vendor-completions/_portmanager"
build/bin/portmanager --generate-completion-script fish > "$root/share/fish/vendor_completions.d/portmanager.fish"
chmod 0644 "$root/share/man/man1/portmanager.1.gz" "$root/share/bash-completion/completions/portmanager" \
           "$root/share/zsh/vendor-completions/_portmanager" "$root/share/fish/vendor_completions.d/portmanager.fish"
sed -e "s|@PREFIX@|$prefix|g" \
    -e "s|@LIBDIR@|\${prefix}${libdir#"$prefix"}|g" \
    -e "s|@INCLUDEDIR@|\${prefix}/include|g" \
    -e "s|@DATADIR@|\${prefix}/share|g" \
    -e "s|@VERSION@|$version|g" \
    scripts/portmanager.pc.in > "$libroot/pkgconfig/portmanager.pc"
chmod 0644 "$libroot/pkgconfig/portmanager.pc"

echo "installed portmanager $version into $root"
