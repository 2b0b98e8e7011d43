#!/usr/bin/env bash
# What the build and the tests need from Debian, in one list, and the code that
# gets it. Swift itself is not in it (scripts/swift-env.sh finds the toolchain).
#
#   scripts/deps.sh build   the packages `make all` (and so `make summary`) needs
#   scripts/deps.sh test    those and the packages the test suites use
#   scripts/deps.sh list    the whole list
#
# Missing packages are installed when run as root (apt-get update once, then one
# apt-get install); otherwise it stops at once and prints the one
# `apt-get install ...` line that is missing. The Python packages of the tests
# come from Tests/requirements.txt into .build/venv (scripts/venv.sh), not from here.
set -euo pipefail
cd "$(dirname "$0")/.."

# group  package         present when          needed for
PACKAGES='
build    libyaml-dev      dpkg                  the registry reader (module CYaml)
build    libsqlite3-dev   dpkg                  the reservation store (module CSQLite)
build    libcurl4-openssl-dev dpkg              curl/curl.h for the Docker client (module CDockerHTTP); headers only, libcurl is dlopened
build    pkg-config       pkg-config            SwiftPM finds libyaml and SQLite through it
build    python3          python3               scripts/build.sh reads the link commands from the SwiftPM manifest
test     libffi-dev       dpkg                  the libffi suites of Tests/c (make test-c, make sanitize)
test     valgrind         valgrind              make memcheck (part of make test-c)
test     util-linux       setpriv               tests run as another user (setpriv) and hide files (unshare)
test     iproute2         ss                    the probe tests and benchmark compare with ss
test     dpkg-dev         dpkg-shlibdeps        make deb computes its dependencies
test     lintian          lintian               Tests/package checks make deb
test     docker-compose   docker-compose        Tests/cli validates compose --document output (no engine needed)
test     golang-go        go                    the tests of the Go binding (make test-go)
test     docker.io        dpkg                  the Docker engine of make test-e2e (dockerd, started by scripts/dockerd.sh; containerd and runc come with it)
test     iptables         dpkg                  dockerd publishes container ports through iptables NAT rules (scripts/dockerd.sh)
test     busybox-static   dpkg                  the end-to-end image, FROM scratch (scripts/dockerd.sh image; no registry is reachable)
test     python3-venv     py:ensurepip          python3 -m venv for .build/venv (only where python3 lacks ensurepip)
'

what="${1:-}"
case "$what" in
  build) groups=" build " ;;
  test) groups=" build test " ;;
  list) printf '%s\n' "$PACKAGES" | sed '/^$/d'; exit 0 ;;
  *) echo "usage: scripts/deps.sh build|test|list" >&2; exit 2 ;;
esac

present() {   # present PACKAGE CHECK
  case "$2" in
    dpkg) [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ] ;;
    py:*) python3 -c "import ${2#py:}" >/dev/null 2>&1 ;;
    *) command -v "$2" >/dev/null 2>&1 ;;
  esac
}

missing=()
while read -r group package check _; do
  [ -n "$group" ] || continue
  [[ "$groups" == *" $group "* ]] || continue
  present "$package" "$check" || missing+=("$package")
done <<< "$PACKAGES"
[ ${#missing[@]} -gt 0 ] || exit 0

line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing Debian packages; as root, run:" >&2
  echo "  $line" >&2
  exit 2
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" > /dev/null
