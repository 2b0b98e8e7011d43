# portmanager — build and test entry points. README.md documents the two that matter:
#   make summary   build everything, then print the allocation summary of the shipped registry
#   make test      run every test suite
SHELL := /bin/bash
# Swift: `swift` on PATH, else /opt/swift/usr/bin; the rule is written once, in
# scripts/swift-env.sh, which every script that builds sources too.
export PATH := $(shell . ./scripts/swift-env.sh && printf '%s' "$$PATH")
export SWIFT_BACKTRACE := enable=no

.PHONY: all lib cli man wheel dist deb summary deps deps-test test test-lint test-swift test-c test-cli test-python test-go test-e2e test-fuzz test-sanitize test-package sanitize bench clean install memcheck

# The Debian packages the build (deps) and the tests (deps-test) need, listed in
# scripts/deps.sh: installed when run as root, else it stops with the one
# `apt-get install` line that is missing. The tests' Python packages come from
# Tests/requirements.txt into .build/venv (scripts/venv.sh), made on first use.
deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# The library (build/lib) and the CLI (build/bin) from one release build of the
# sources (scripts/build.sh says how); lib and cli are other names for it.
all: deps
	scripts/build.sh all

lib cli: all

# The man page, from the command definitions: build/man/portmanager.1
man: deps
	scripts/build.sh man

# The one Python wheel: build/wheel/portmanager-VERSION-py3-none-manylinux_*_x86_64.whl
# (its library is relinked from the same build with libyaml linked in).
wheel: deps-test
	scripts/build.sh wheel-lib
	scripts/build-wheel.sh

summary: all
	build/bin/portmanager summary --registry dynamicconfig/port_registry.yaml

# Every suite, two at a time, each printed whole with its time, and a table of
# the times; the target fails if any suite did (scripts/test-all.sh).
test: deps-test
	scripts/test-all.sh

# One suite (the commands are in scripts/test-all.sh).
# test-lint: shell pipelines that fail at random under pipefail (`cmd | grep -q`),
# and a check that the lint refuses a planted one.
test-lint: deps-test
	scripts/test-all.sh lint

test-swift: deps-test
	scripts/test-all.sh swift

test-c: lib deps-test
	scripts/test-all.sh c

test-cli: cli deps-test
	scripts/test-all.sh cli

test-python: lib deps-test
	scripts/test-all.sh python

# The Go binding (bindings/go) with -race, the shared vectors included, through
# cgo against build/lib (scripts/go-env.sh writes a .pc file for the build tree).
test-go: lib deps-test
	scripts/test-all.sh go

# The end-to-end suite (Tests/e2e) on a real Docker engine and a real Temporal dev
# server: scripts/dockerd.sh starts dockerd when none runs (root only; stopped after,
# only if it started it) and builds the image; docs/development.md says more.
test-e2e: all deps-test
	scripts/test-all.sh e2e

# A 45-second libFuzzer run with a fixed seed over the loader and the C entry
# points (scripts/fuzz.sh SECONDS for long runs).
test-fuzz: deps-test
	scripts/test-all.sh fuzz

# The C and libffi suites against a library built with AddressSanitizer and
# UndefinedBehaviorSanitizer (scratch path .build-sanitize).
sanitize test-sanitize: deps-test
	scripts/test-all.sh sanitize

# The shipped artifacts: one version everywhere, the wheel, make dist, make deb.
test-package: all man wheel dist deb
	scripts/test-all.sh package

# The libffi suite under valgrind memcheck (test-c runs it too).
memcheck: lib deps-test
	scripts/test-c.sh memcheck

# make install PREFIX=/usr/local [DESTDIR=/staging]: library, header, pkg-config
# file, CLI, man page, completions and default registry (layout in scripts/install.sh).
PREFIX ?= /usr/local
install: all man
	DESTDIR="$(DESTDIR)" scripts/install.sh "$(PREFIX)"

# Release artifacts: build/portmanager-VERSION.tar.gz (laid out for PREFIX) and
# build/portmanager_VERSION_ARCH.deb (scripts/package.sh).
dist: all man
	scripts/package.sh dist "$(PREFIX)"

deb: all man deps-test
	scripts/package.sh deb

bench: all
	scripts/bench.sh

clean:
	rm -rf build .build .build-*
