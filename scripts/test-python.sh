#!/usr/bin/env bash
# pytest suites of the Python binding (bindings/python/tests), through ctypes over
# build/lib/libportmanager.so (`make test-python` builds it first with `make lib`).
# One of them pip-installs bindings/python into a fresh virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -e build/lib/libportmanager.so ]; then
  echo "build/lib/libportmanager.so is missing; run 'make lib' (or 'make test-python')" >&2
  exit 2
fi
. scripts/venv.sh   # pytest from Tests/requirements.txt, in .build/venv
. scripts/no-engine.sh   # not the machine's Docker engine
exec python3 -m pytest -q bindings/python/tests "$@"
