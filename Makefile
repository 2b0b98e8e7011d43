# portmanager — build and test entry points. README.md documents the two that matter:
#   make summary   build everything, then print the allocation summary of the shipped registry
#   make test      run every test suite
SHELL := /bin/bash
# Swift: `swift` on PATH, else /opt/swift/usr/bin; the rule is written once, in
# scripts/swift-env.sh, which every script that builds sources too.
export PATH := $(shell . ./scripts/swift-env.sh && printf '%s' "$$PATH")
export SWIFT_BACKTRACE := enable=no

.PHONY: all lib cli man wheel dist deb summary test test-lint test-swift test-c test-cli test-python test-go test-fuzz test-sanitize test-package sanitize bench clean install memcheck

all: lib cli

lib:
	scripts/build.sh lib

cli:
	scripts/build.sh cli

# The man page, from the command definitions (generate-manual plugin): build/man/portmanager.1
man: cli
	scripts/build-man.sh

# The one Python wheel: build/wheel/portmanager-VERSION-py3-none-manylinux_*_x86_64.whl
wheel:
	scripts/build.sh wheel-lib
	scripts/build-wheel.sh

summary: all
	build/bin/portmanager summary --registry dynamicconfig/port_registry.yaml

# Every suite runs even when an earlier one fails; the target fails if any did.
test: all
	@status=0; \
	for suite in lint swift c cli python go fuzz sanitize package; do \
	  echo "=== test-$$suite"; \
	  $(MAKE) --no-print-directory test-$$suite || { echo "=== test-$$suite FAILED"; status=1; }; \
	done; exit $$status

# Shell pipelines that fail at random under pipefail (`cmd | grep -q`), and a
# check that the lint refuses a planted one.
test-lint:
	scripts/lint-pipes.py
	scripts/lint-pipes.py --self-test

test-swift:
	scripts/test-swift.sh

test-c: lib
	scripts/test-c.sh

test-cli: cli
	scripts/test-cli.sh

test-python: lib
	scripts/test-python.sh

# The Go binding (bindings/go) with -race, the shared vectors included, through
# cgo against build/lib (scripts/go-env.sh writes a .pc file for the build tree).
test-go: lib
	scripts/test-go.sh

# A 45-second libFuzzer run with a fixed seed over the loader and the C entry
# points (scripts/fuzz.sh SECONDS for long runs).
test-fuzz:
	scripts/fuzz.sh --smoke

# The C and libffi suites against a library built with AddressSanitizer and
# UndefinedBehaviorSanitizer (scratch path .build-sanitize).
sanitize:
	scripts/sanitize.sh

test-sanitize: sanitize

# The shipped artifacts: one version everywhere, the wheel, make dist, make deb.
test-package: all man wheel dist deb
	scripts/test-package.sh

# The libffi suite under valgrind memcheck (test-c runs it too).
memcheck: lib
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

deb: all man
	scripts/package.sh deb

bench: all
	scripts/bench.sh

clean:
	rm -rf build .build .build-*
