#!/usr/bin/env bash
# Tests of the shipped artifacts (Tests/package): the version each reports, the
# Python wheel in fresh venvs, the release tarball and the Debian package.
# `make test-package` builds the artifacts first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
. scripts/venv.sh   # pytest, auditwheel from Tests/requirements.txt, in .build/venv
# The interpreters the wheel is tested on (Tests/package/pythons.py finds them).
if pythons="$(python3 Tests/package/pythons.py)"; then
  echo "wheel tested on: $(tr '\n' ' ' <<< "$pythons")"
else
  echo "wheel tests: fewer than two Python versions found (${pythons:-none}); they $([ "${CI:-}" = true ] && echo fail || echo are skipped)"
fi
exec python3 -m pytest -q -rs Tests/package "$@"
