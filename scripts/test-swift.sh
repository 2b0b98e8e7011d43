#!/usr/bin/env bash
# Swift Testing suites of the core and the YAML edge.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH" SWIFT_BACKTRACE=enable=no
swift test --parallel
