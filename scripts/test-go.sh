#!/usr/bin/env bash
# The Go binding's tests (bindings/go), with the race detector, against
# build/lib/libportmanager.so (`make test-go` builds it first with `make lib`).
# They include the shared conformance vectors (vectors_test.go); -v prints the
# count passed. Extra arguments go to `go test` (for example -run Vectors).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/go-env.sh
. scripts/no-engine.sh   # not the machine's Docker engine
cd bindings/go
exec go test -race -count=1 -v "$@" ./...
