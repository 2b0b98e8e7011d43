#!/usr/bin/env python3
"""Writes the documentation lists that are derived from the code, so each fact
has one home (the code) and the docs are never edited by hand where they copy it.

    scripts/gen-docs.py [--check] [CLI]

CLI is the built command-line tool (default build/bin/portmanager). Each block
lies between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->` in a
file of docs/; --check fails (exit 1), naming the file, when a block is stale.

Blocks:
  registry-search  the registry search order: RegistrySearchPlace in
                   Sources/PortManager/Registry/RegistrySearch.swift, as
                   `portmanager --help` prints it.
  exit-statuses    the exit statuses (docs/cli.md's table): ExitStatus.table in
                   Sources/PortManagerCLI/ExitStatus.swift, as `portmanager --help`
                   lists them (`  LABEL: MEANING. Commands: COMMANDS.`).

The help is read unwrapped (COLUMNS is set wide), one list item a line.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def root_help(cli: str) -> str:
    """`portmanager --help`, each paragraph and list item on one line."""
    return subprocess.run([cli, "--help"], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "100000"}).stdout


def registry_search(cli: str) -> str:
    """The numbered search list of `portmanager --help`, as Markdown."""
    text = root_help(cli)
    lines = text.split("The registry is found in this order", 1)[1].splitlines()[1:]
    items = [m.group(1) for line in lines if (m := re.match(r"\s+\d+\. (.*)", line))]
    if not items:
        sys.exit("gen-docs.py: no search order in `portmanager --help`")
    return "".join(f"{n}. {item}\n" for n, item in enumerate(items, 1))


def exit_statuses(cli: str) -> str:
    """The exit-status list of `portmanager --help`, as a Markdown table."""
    text = root_help(cli)
    if "Exit statuses" not in text:
        sys.exit("gen-docs.py: no exit statuses in `portmanager --help`")
    lines = text.split("Exit statuses", 1)[1].splitlines()[1:]
    rows = []
    for line in lines:
        m = re.fullmatch(r"  (\d+|[^:]+): (.*)\. Commands: (.*)\.", line)
        if not m:
            break
        rows.append(f"| {m.group(1)} | {m.group(2)} | {m.group(3)} |\n")
    if not rows:
        sys.exit("gen-docs.py: no exit statuses in `portmanager --help`")
    return "| Status | Meaning | Commands |\n| --- | --- | --- |\n" + "".join(rows)


BLOCKS = {
    "registry-search": (ROOT / "docs" / "registry.md", registry_search),
    "exit-statuses": (ROOT / "docs" / "cli.md", exit_statuses),
}


def main() -> int:
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    cli = args[0] if args else str(ROOT / "build" / "bin" / "portmanager")
    stale = 0
    for name, (path, make) in BLOCKS.items():
        text = path.read_text(encoding="utf-8")
        begin, end = f"<!-- generated: {name} -->\n", f"<!-- end generated: {name} -->"
        if begin not in text or end not in text:
            sys.exit(f"gen-docs.py: {path.relative_to(ROOT)} has no block {name!r}")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        updated = head + begin + make(cli) + end + tail
        if updated != text:
            if check:
                print(f"gen-docs.py: {path.relative_to(ROOT)}: block {name!r} is stale; run scripts/gen-docs.py")
                stale += 1
            else:
                path.write_text(updated, encoding="utf-8")
                print(f"gen-docs.py: wrote {path.relative_to(ROOT)} ({name})")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
