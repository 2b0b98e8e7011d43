#!/usr/bin/env bash
# End-to-end tests of the portmanager CLI: pytest runs the built binary and
# checks stdout, stderr and exit codes. `make test-cli` builds it first; run
# alone, this script builds it when it is missing. PORTMANAGER_CLI overrides
# the binary tested (default build/bin/portmanager).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
. scripts/venv.sh   # pytest from Tests/requirements.txt, in .build/venv
. scripts/no-engine.sh   # not the machine's Docker engine
if [ -z "${PORTMANAGER_CLI:-}" ] && [ ! -x build/bin/portmanager ]; then
  scripts/build.sh cli
fi
exec python3 -m pytest -q Tests/cli "$@"
