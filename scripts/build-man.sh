#!/usr/bin/env bash
# Builds build/man/portmanager.1 from the command definitions with
# swift-argument-parser's generate-manual plugin (offline: it builds the CLI in
# debug configuration and asks it for its help with --experimental-dump-help).
# Blank lines, which mdoc warns about, become paragraph breaks (.Pp); the date
# is that of the last commit, so the page is reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/swift-env.sh
date="$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}" +%Y-%m-%d)"
swift package plugin generate-manual --configuration debug --date "$date" > build/man.log 2>&1 \
  || { cat build/man.log; echo "build-man.sh: the generate-manual plugin failed" >&2; exit 2; }
page=.build/plugins/GenerateManual/outputs/PortManagerCLI/portmanager.1
[ -f "$page" ] || { cat build/man.log; echo "build-man.sh: $page was not generated" >&2; exit 2; }
mkdir -p build/man
sed -e 's/^$/.Pp/' "$page" > build/man/portmanager.1
rm -f build/man.log
echo build/man/portmanager.1
