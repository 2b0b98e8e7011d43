#!/usr/bin/env bash
# Swift Testing suites of the core and the YAML edge.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
swift test --parallel
