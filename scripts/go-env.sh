# Sourced by scripts/test-go.sh and benchmarks/go/run.sh: points cgo at the
# build tree, so the Go binding (bindings/go) builds and runs against the
# freshly built build/lib/libportmanager.so without installing it.
#
#   build/go/pkgconfig/portmanager.pc   scripts/portmanager.pc.in with the
#                                       checkout as prefix: -Iinclude, -Lbuild/lib
#                                       (its `registry` is a link to dynamicconfig's)
#   PKG_CONFIG_PATH                     finds it first (`#cgo pkg-config: portmanager`)
#   CGO_LDFLAGS                         an rpath to build/lib, so test binaries
#                                       load that copy of the library
#   GOPROXY=off, GOFLAGS=-mod=mod       no module proxy is reachable; the binding
#                                       uses the standard library only
# Run from the repository root.
if [ ! -e build/lib/libportmanager.so ]; then
  echo "build/lib/libportmanager.so is missing; run 'make lib' (or 'make test-go')" >&2
  return 2 2>/dev/null || exit 2
fi
if ! command -v go >/dev/null 2>&1; then
  echo "go is not installed: apt-get install -y golang-go (Go 1.19 or later)" >&2
  return 2 2>/dev/null || exit 2
fi
_pm_root="$PWD"
_pm_version="$(sed -n 's/^#define PM_VERSION_STRING "\(.*\)"$/\1/p' include/portmanager.h)"
mkdir -p build/go/pkgconfig build/go/share/portmanager
# The .pc file's `registry` variable: the checkout's registry.
ln -sfn "$_pm_root/dynamicconfig/port_registry.yaml" build/go/share/portmanager/port_registry.yaml
sed -e "s|@PREFIX@|$_pm_root|g" \
    -e "s|@LIBDIR@|\${prefix}/build/lib|g" \
    -e "s|@INCLUDEDIR@|\${prefix}/include|g" \
    -e "s|@DATADIR@|\${prefix}/build/go/share|g" \
    -e "s|@VERSION@|$_pm_version|g" \
    scripts/portmanager.pc.in > build/go/pkgconfig/portmanager.pc
export PKG_CONFIG_PATH="$_pm_root/build/go/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CGO_ENABLED=1
export CGO_LDFLAGS="-Wl,-rpath,$_pm_root/build/lib${CGO_LDFLAGS:+ $CGO_LDFLAGS}"
export GOPROXY=off GOFLAGS=-mod=mod
unset _pm_root _pm_version
