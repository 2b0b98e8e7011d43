#!/usr/bin/env bash
# Tests of the shipped artifacts (Tests/package): the version each reports, the
# Python wheel in fresh venvs, the release tarball and the Debian package.
# `make test-package` builds the artifacts first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
exec python3 -m pytest -q -rs Tests/package "$@"
