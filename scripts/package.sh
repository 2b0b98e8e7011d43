#!/usr/bin/env bash
# Release artifacts, from the built library and CLI (make all):
#
#   scripts/package.sh dist PREFIX   build/portmanager-VERSION.tar.gz: `make install
#                                    PREFIX=...` staged and packed. Its one top folder,
#                                    portmanager-VERSION/, holds bin/ lib/ include/ share/
#                                    for PREFIX (the pkg-config file names PREFIX):
#                                    tar -xzf build/portmanager-VERSION.tar.gz \
#                                        -C PREFIX --strip-components=1
#   scripts/package.sh deb           build/portmanager_VERSION_amd64.deb (dpkg-deb --build):
#                                    the library, its development files (header,
#                                    signature table, pkg-config file) and the CLI
#                                    under /usr, with the multiarch libdir.
#
# Both are reproducible for one source tree: files sorted, owned by root, dated
# by the last commit (SOURCE_DATE_EPOCH overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-}"
version="$(sed -n 's/^#define PM_VERSION_STRING "\(.*\)"$/\1/p' include/portmanager.h)"
[ -n "$version" ] || { echo "package.sh: no PM_VERSION_STRING in include/portmanager.h" >&2; exit 2; }
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
work="$(mktemp -d "$PWD/build/package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

case "$what" in
dist)
  prefix="${2:-}"
  [ -n "$prefix" ] || { echo "usage: scripts/package.sh dist PREFIX" >&2; exit 2; }
  DESTDIR="$work/stage" scripts/install.sh "$prefix" > /dev/null
  top="portmanager-$version"
  mkdir -p "$work/$top/share/doc/portmanager"
  cp -a "$work/stage${prefix%/}/." "$work/$top/"
  install -m 0644 LICENSE README.md CHANGELOG.md "$work/$top/share/doc/portmanager/"
  out="build/$top.tar.gz"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
      -C "$work" -cf - "$top" | gzip -9n > "$out"
  echo "$out"
  ;;
deb)
  arch="$(dpkg --print-architecture)"
  multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
  root="$work/root"
  DESTDIR="$root" LIBDIR="/usr/lib/$multiarch" scripts/install.sh /usr > /dev/null
  doc="$root/usr/share/doc/portmanager"
  install -d "$doc"
  { printf '%s\n' "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" \
      "Upstream-Name: portmanager" "" "Files: *" "Copyright: 2026 The portmanager authors" "License: Expat"
    sed -e 's/^$/./' -e 's/^/ /' LICENSE; } > "$doc/copyright"
  { printf 'portmanager (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Release %s. The changes are listed in CHANGELOG.md of the source.\n\n' "$version"
    printf ' -- portmanager maintainers <portmanager@users.noreply.github.com>  %s\n' \
      "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"; } | gzip -9n > "$doc/changelog.gz"
  chmod 0644 "$doc/copyright" "$doc/changelog.gz"
  # Runtime dependencies of the ELF files, as dpkg-shlibdeps computes them.
  mkdir -p "$work/src/debian" "$root/DEBIAN"
  printf 'Source: portmanager\n\nPackage: portmanager\nArchitecture: %s\n' "$arch" > "$work/src/debian/control"
  depends="$(cd "$work/src" && dpkg-shlibdeps -O -e"$root/usr/bin/portmanager" \
               -e"$root/usr/lib/$multiarch/libportmanager.so.1.$version" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
  [ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 2; }
  cat > "$root/DEBIAN/control" <<CONTROL
Package: portmanager
Version: $version
Architecture: $arch
Maintainer: portmanager maintainers <portmanager@users.noreply.github.com>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: libcurl4
Section: devel
Priority: optional
Description: conflict-free host ports for side-by-side service instances
 portmanager gives every instance of every service its own host ports,
 container name and volume name, from one YAML registry
 (final_port = base_port + instance_id * instance_increment).
 .
 This package holds the C library libportmanager.so.1, its development
 files (portmanager.h, the signature table portmanager.sig and the
 pkg-config file), the portmanager command-line tool and the shipped
 registry.
CONTROL
  echo "libportmanager 1 portmanager (>= $version)" > "$root/DEBIAN/shlibs"
  echo "activate-noawait ldconfig" > "$root/DEBIAN/triggers"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
     | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/"*
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  out="build/portmanager_${version}_$arch.deb"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out" > /dev/null
  echo "$out"
  ;;
*)
  echo "usage: scripts/package.sh dist PREFIX | deb" >&2
  exit 2
  ;;
esac
